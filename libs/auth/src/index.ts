export { ApiKeysService, type Caller, tenantOf } from './api-keys.service.js';
export { AuthGuard, type AuthenticatedRequest, callerOf } from './auth.guard.js';
export { ApiKeysModule, AuthModule } from './auth.module.js';
export { RateBudget, RateLimit, RateLimiter } from './rate-limiter.js';
export { CurrentCaller } from './caller.decorator.js';
export { ANY_SCOPE, PUBLIC_ROUTE, PUBLIC_ROUTE_CONFIG, PublicRoute, REQUIRED_SCOPE, RequireAnyKey, RequireScope } from './require-scope.decorator.js';
export { ALL_SCOPES, isScope, Scope } from './scopes.js';
