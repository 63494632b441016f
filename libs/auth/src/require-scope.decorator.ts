import { SetMetadata } from '@nestjs/common';
import type { Scope } from './scopes.js';

export const REQUIRED_SCOPE = 'splitstream:required-scope';
export const PUBLIC_ROUTE = 'splitstream:public-route';

// Every api route either names the scope it needs or is marked public; the guard refuses anything else.
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);
// Any valid key, whatever its scopes (GET /v1/apps/me: a key can always see what it is).
export const ANY_SCOPE = 'any';
export const RequireAnyKey = () => SetMetadata(REQUIRED_SCOPE, ANY_SCOPE);
