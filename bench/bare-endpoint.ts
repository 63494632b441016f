// The baseline for bench/ingest.ts: a bare Fastify endpoint that puts each batch on a BullMQ queue, nothing else.
import Fastify from 'fastify';
import { Queue } from 'bullmq';

const port = Number(process.argv[2]);
const redisUrl = process.argv[3]!;
const queue = new Queue('bench-bare', { connection: { url: redisUrl }, prefix: 'splitstream-bench' });
const app = Fastify({ bodyLimit: 5 * 1024 * 1024 });
app.post('/v1/events', async (request, reply) => {
  const { events } = request.body as { events: unknown[] };
  await queue.add('batch', { events }, { removeOnComplete: true, removeOnFail: true });
  return reply.code(202).send({ accepted: events.length });
});
await app.listen({ port, host: '127.0.0.1' });
console.log('ready');
