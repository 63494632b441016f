import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { HealthController } from '@splitstream/health';
import { buildOpenApiDocument } from './openapi-document.js';

// /docs (Swagger UI) and /docs/openapi.json, public. Built at boot: a route without docs stops the api starting.
export async function serveOpenApi(app: NestFastifyApplication, controllers: Type[]): Promise<void> {
  const { document } = buildOpenApiDocument([...controllers, HealthController]);
  await app.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app
    .getHttpAdapter()
    .getInstance()
    .get('/docs/openapi.json', async () => document);
}
