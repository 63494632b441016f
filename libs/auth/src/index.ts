export { ApiKeysService, type Caller } from './api-keys.service.js';
export { AuthGuard, type AuthenticatedRequest } from './auth.guard.js';
export { ApiKeysModule, AuthModule } from './auth.module.js';
export { CurrentCaller } from './caller.decorator.js';
export { PUBLIC_ROUTE, PublicRoute, REQUIRED_SCOPE, RequireScope } from './require-scope.decorator.js';
export { ALL_SCOPES, isScope, Scope } from './scopes.js';
