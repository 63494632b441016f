import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

// The static files beside this module: in the source tree, and in dist/ (the build copies them there, as nest-cli.json's
// assets say), which is all the production image holds.
export const DASHBOARD_DIR = fileURLToPath(new URL('./public/', import.meta.url));

// Pages are public; every number on them comes from the API with the key the user signs in with. The policy
// allows only this origin's scripts and styles, so no feed-supplied text can ever run.
const POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export async function serveDashboard(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', POLICY);
      reply.header('x-content-type-options', 'nosniff');
    });
    await scope.register(fastifyStatic, { root: DASHBOARD_DIR, prefix: '/dashboard/', decorateReply: false });
    scope.get('/dashboard', (_request, reply) => reply.redirect('/dashboard/'));
  });
}
