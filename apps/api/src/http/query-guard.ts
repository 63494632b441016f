import type { FastifyInstance } from 'fastify';
import { AppError, sendError } from '@splitstream/errors';
import type { RouteDoc } from '../openapi/route-docs.js';

// A route that takes no query parameters refuses any (a misspelt filter must never be silently ignored); routes
// with parameters validate them strictly themselves (parseQuery). The route docs say which is which.
export function refuseUnexpectedQueries(fastify: FastifyInstance, docs: Record<string, RouteDoc>): void {
  fastify.addHook('preHandler', async (request, reply) => {
    const route = request.routeOptions.url;
    const doc = route === undefined ? undefined : docs[`${request.method} ${route.replace(/:(\w+)/g, '{$1}')}`];
    if (!doc || doc.query) return;
    const names = Object.keys((request.query as Record<string, unknown> | undefined) ?? {});
    if (names.length === 0) return;
    const refused = AppError.validation(
      names.map((name) => ({ path: `query.${name}`, message: 'is not a parameter of this route' })),
      'the query is invalid: this route takes no query parameters',
    );
    await sendError(reply, refused);
  });
}
