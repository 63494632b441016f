// The keys alone, for processes that manage keys without serving HTTP (the CLI): the index also loads the guard
// and route decorators, which pull @nestjs/core and Fastify.
export { ApiKeysService } from './api-keys.service.js';
export { ALL_SCOPES, isScope, Scope } from './scopes.js';
