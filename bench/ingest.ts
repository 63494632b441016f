// Ingestion throughput: POST /v1/events of the real api (validation, idempotent insert into PostgreSQL, one
// BullMQ job per batch) against a bare Fastify + BullMQ endpoint on the same machine. Prints events/s and the
// ratio. Usage: npm run build && npx tsx bench/ingest.ts [requests=200] [concurrency=8] [batch=500]
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@splitstream/config';

const [requests = 200, concurrency = 8, batch = 500] = process.argv.slice(2).map(Number);
const config = loadConfig();
const benchDb = new URL(config.DATABASE_URL);
benchDb.pathname = `${benchDb.pathname}_bench`;
const pubkey = (n: number) => `02${n.toString(16).padStart(64, '0')}`;
const recipients = [
  { name: 'Host', type: 'node', address: pubkey(1), split: 50 },
  { name: 'Cohost', type: 'node', address: pubkey(2), split: 40 },
  { name: 'Guest', type: 'node', address: pubkey(3), customKey: '696969', customValue: 'guest', split: 10 },
  { name: 'App', type: 'node', address: pubkey(4), split: 2, fee: true },
];
const body = () =>
  JSON.stringify({
    events: Array.from({ length: batch }, () => ({
      id: randomUUID(),
      feedGuid: 'bench-feed',
      itemGuid: 'bench-item',
      position: 0,
      seconds: 60,
      satsPerMinute: 10,
      value: { type: 'lightning', method: 'keysend', recipients },
    })),
  });

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await fetch(url).then((r) => r.status < 500, () => false)) return;
    await sleep(200);
  }
  throw new Error(`${url} did not come up`);
}

async function load(baseUrl: string): Promise<number> {
  const bodies = Array.from({ length: requests }, body);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const payload = bodies[next++]!;
        const res = await fetch(`${baseUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
        if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return (requests * batch) / seconds;
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await once(child, 'exit');
}

const migrate = spawn('npx', ['tsx', 'scripts/db/migrate.ts', 'deploy'], { env: { ...process.env, DATABASE_URL: benchDb.toString() }, stdio: 'inherit' });
await once(migrate, 'exit');

const apiPort = 3190;
const api = spawn('node', ['dist/apps/api/src/main.js'], {
  env: { ...process.env, DATABASE_URL: benchDb.toString(), API_PORT: String(apiPort), QUEUE_PREFIX: 'splitstream-bench', LOG_LEVEL: 'error' },
  stdio: 'inherit',
});
await waitReady(`http://127.0.0.1:${apiPort}/health`);
await load(`http://127.0.0.1:${apiPort}`); // warm-up
const apiRate = await load(`http://127.0.0.1:${apiPort}`);
await stop(api);

const barePort = 3191;
const bare = spawn('node', ['--import', 'tsx', 'bench/bare-endpoint.ts', String(barePort), config.REDIS_URL], { stdio: ['ignore', 'ignore', 'inherit'] });
await waitReady(`http://127.0.0.1:${barePort}/health`);
await load(`http://127.0.0.1:${barePort}`);
const bareRate = await load(`http://127.0.0.1:${barePort}`);
await stop(bare);

console.log(`requests ${requests} x ${batch} events, concurrency ${concurrency}`);
console.log(`splitstream POST /v1/events: ${Math.round(apiRate)} events/s`);
console.log(`bare Fastify + BullMQ:       ${Math.round(bareRate)} events/s`);
console.log(`ratio (splitstream / bare):  ${(apiRate / bareRate).toFixed(2)}`);
process.exit(0);
