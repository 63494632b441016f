import { SetMetadata } from '@nestjs/common';
import type { Scope } from './scopes.js';

export const REQUIRED_SCOPE = 'splitstream:required-scope';
export const PUBLIC_ROUTE = 'splitstream:public-route';

// Every api route either names the scope it needs or is marked public; the guard refuses anything else.
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);
