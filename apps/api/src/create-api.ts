import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '@splitstream/config';
import { ApiKeysService } from '@splitstream/auth';
import { AppError, ErrorCode, sendError } from '@splitstream/errors';
import { Logger } from 'nestjs-pino';
import { fastifyLogging, redactUrl } from '@splitstream/observability';
import { API_CONTROLLERS, ApiModule } from './api.module.js';
import { authenticateBeforeBody, carriesBody } from './http/authenticate-early.js';
import { clientErrorHandler, guardInput } from './http/input-guard.js';
import { refuseUnexpectedQueries } from './http/query-guard.js';
import { ROUTE_DOCS } from './openapi/route-docs.js';
import { serveDashboard } from './dashboard/serve-dashboard.js';
import { serveOpenApi } from './openapi/serve-openapi.js';

// 500 events with value blocks of up to 100 recipients each fit comfortably.
export const BODY_LIMIT_BYTES = 5 * 1024 * 1024;

// Fastify's own errors that never reach a route or Nest's filter (a URL that is not valid UTF-8), answered in
// the one error shape.
const frameworkErrors = (error: Error, _request: unknown, reply: import('fastify').FastifyReply) => sendError(reply, error);

export async function createApi(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, clientErrorHandler, frameworkErrors, ...fastifyLogging(config) });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.register(config), adapter, {
    abortOnError: false,
    bufferLogs: true,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // The api speaks JSON only: any other body type is refused before routing (Nest would parse forms too).
  fastify.addHook('onRequest', async (request, reply) => {
    const type = request.headers['content-type'];
    if (carriesBody(request.headers) && !/^application\/json\b/i.test(type ?? '')) {
      await sendError(reply, new AppError(ErrorCode.UnsupportedMediaType, 'send JSON: Content-Type must be application/json'));
    }
  });
  // An API key in a URL ends up in proxies' and browsers' histories: refused, whatever the route.
  fastify.addHook('onRequest', async (request, reply) => {
    if (!reply.sent && redactUrl(request.url) !== request.url) {
      await sendError(reply, new AppError(ErrorCode.InvalidRequest, 'send the API key in the Authorization header, never in the URL'));
    }
  });
  // Then the key, before any body is read (401 for an unauthenticated upload, whatever its size or content).
  authenticateBeforeBody(fastify, app.get(ApiKeysService));
  guardInput(fastify);
  refuseUnexpectedQueries(fastify, ROUTE_DOCS);
  app.useLogger(app.get(Logger));
  await serveOpenApi(app, API_CONTROLLERS);
  await serveDashboard(app);
  // The root points a visitor (or a script) to what there is to read; public, as the pages it links.
  fastify.get('/', async () => ({ service: 'splitstream', docs: '/docs', openapi: '/docs/openapi.json', dashboard: '/dashboard/', health: '/health' }));
  app.enableShutdownHooks();
  return app;
}
