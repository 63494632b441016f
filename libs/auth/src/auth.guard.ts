import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@splitstream/errors';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiKeysService, type Caller } from './api-keys.service.js';
import { RATE_BUDGET, RateBudget, RateLimiter } from './rate-limiter.js';
import { ANY_SCOPE, PUBLIC_ROUTE, REQUIRED_SCOPE } from './require-scope.decorator.js';
import type { Scope } from './scopes.js';

export type AuthenticatedRequest = FastifyRequest & { caller?: Caller };

// The key check, shared by the guard and the api's onRequest hook: the caller an Authorization header names, or
// 401. The scheme is case-insensitive (RFC 9110): `bearer` and `BEARER` are `Bearer`.
export async function callerOf(keys: ApiKeysService, authorization: string | undefined, fresh = false): Promise<Caller> {
  const token = /^bearer +(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) throw new AppError(ErrorCode.Unauthorized, 'send an API key: Authorization: Bearer <key>');
  const caller = await keys.authenticate(token, fresh);
  if (!caller) throw new AppError(ErrorCode.Unauthorized, 'the API key is invalid or revoked');
  return caller;
}

// Authorization: Bearer <api key> on every route that is not public: 401 without a valid key, 403 without the
// route's scope, and 429 (Retry-After) over the route's rate budget (@RateLimit).
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const scope = this.reflector.getAllAndOverride<Scope | typeof ANY_SCOPE | undefined>(REQUIRED_SCOPE, targets);
    if (!scope) throw new Error('route has neither @RequireScope nor @PublicRoute');

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // The api's onRequest hook has usually authenticated the key already (before reading the body).
    const caller = request.caller ?? (await callerOf(this.keys, request.headers.authorization));
    if (scope !== ANY_SCOPE && !caller.scopes.includes(scope)) throw new AppError(ErrorCode.Forbidden, `this route needs the scope ${scope}`);
    request.caller = caller;

    const budget = this.reflector.getAllAndOverride<RateBudget | undefined>(RATE_BUDGET, targets);
    if (budget) {
      const decision = await this.limiter.take(budget, budget === RateBudget.Events ? caller.keyId : caller.app);
      if (!decision.allowed) throw new AppError(ErrorCode.RateLimited, decision.refusal, undefined, decision.retryAfterSeconds);
    }
    return true;
  }
}
