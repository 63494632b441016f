import { applyDecorators, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { Scope } from './scopes.js';

export const REQUIRED_SCOPE = 'splitstream:required-scope';
export const PUBLIC_ROUTE = 'splitstream:public-route';

// Every api route either names the scope it needs or is marked public; the guard refuses anything else.
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);
// Public routes also say so in their Fastify route config, read before the body (the api authenticates every
// other request that carries a body in an onRequest hook, so an unauthenticated upload is never parsed).
export const PUBLIC_ROUTE_CONFIG = 'splitstreamPublic';
export const PublicRoute = () => applyDecorators(SetMetadata(PUBLIC_ROUTE, true), RouteConfig({ [PUBLIC_ROUTE_CONFIG]: true }));
// Any valid key, whatever its scopes (GET /v1/apps/me: a key can always see what it is).
export const ANY_SCOPE = 'any';
export const RequireAnyKey = () => SetMetadata(REQUIRED_SCOPE, ANY_SCOPE);
