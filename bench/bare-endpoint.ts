// The ingest anchor of npm run bench: a bare Fastify endpoint that puts each request's events on a BullMQ queue
// (one add), nothing else: no auth, no validation, no database.
import Fastify from 'fastify';
import { Queue } from 'bullmq';

const [port, redisUrl, prefix] = process.argv.slice(2);
const queue = new Queue('bench-bare', { connection: { url: redisUrl! }, prefix });
const app = Fastify({ bodyLimit: 5 * 1024 * 1024 });
app.get('/health', async () => ({ status: 'ok' }));
app.post('/v1/events', async (request, reply) => {
  const { events } = request.body as { events: unknown[] };
  await queue.add('batch', { events }, { removeOnComplete: true, removeOnFail: true });
  return reply.code(202).send({ accepted: events.length });
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
