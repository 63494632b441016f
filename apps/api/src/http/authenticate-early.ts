import type { FastifyInstance } from 'fastify';
import { type ApiKeysService, type AuthenticatedRequest, callerOf, PUBLIC_ROUTE_CONFIG } from '@splitstream/auth';
import { sendError } from '@splitstream/errors';

export const carriesBody = (headers: Record<string, string | string[] | undefined>): boolean =>
  Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;

// Fastify reads and parses a body before any Nest guard runs: a request that carries one is authenticated here,
// in onRequest, with the guard's own key check (callerOf), so a missing or invalid key answers 401 before a byte
// of the body is read. Routes marked @PublicRoute are skipped; the guard still checks scopes and rate limits, and
// reuses the caller found here. Requests without a body are left to the guard.
export function authenticateBeforeBody(fastify: FastifyInstance, keys: ApiKeysService): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (reply.sent || !carriesBody(request.headers)) return;
    const config = request.routeOptions.config as unknown as Record<string, unknown> | undefined;
    if (config?.[PUBLIC_ROUTE_CONFIG] === true) return;
    try {
      (request as AuthenticatedRequest).caller = await callerOf(keys, request.headers.authorization);
    } catch (error) {
      // The body is never parsed: Node discards whatever of it is still arriving after the answer.
      await sendError(reply, error);
    }
  });
}
