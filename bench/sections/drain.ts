// The worker's section of `npm run bench`: does the worker keep up? Figures, each beside its anchor in the same run:
// - the api's accepted events/s at 100 events per request, and the worker's drain of what it accepted (>= 2x);
// - the worker's drain of a backlog beside anchor (d), a bare BullMQ worker + pg doing the same reads and writes,
//   alternated, with CPU per event of the process and of PostgreSQL's backends; anchor (e), raw pg writing only
//   balances (the floor of any design);
// - the worker's RSS when idle, at its peak during a 100k-event drain, and after it;
// - the drain with 1, 2 and 3 workers on one backlog (README "Scaling out").
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import pg from 'pg';
import { WORKER_NODE_FLAGS } from '@splitstream/config';
import { listeningEventSchema } from '@splitstream/ingestion';
import {
  type BenchContext,
  type BenchSection,
  DatabaseCpu,
  freshDatabase,
  processCpuMs,
  ratio,
  rssMegabytes,
  startProcess,
  stopProcess,
  until,
  waitHealthy,
} from '../support.js';
import { balancesOnly } from '../worker-anchor.js';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50_000);
const MEMORY_BACKLOG = 100_000;
const ROUNDS = Number(process.env.BENCH_DRAIN_ROUNDS ?? 3);
const EVENTS_PER_REQUEST = 100;
const WORKER_PEAK_TARGET_MB = 300;

// The bench's listening: one episode, a 4-recipient block (50/40/10 and a 2% fee).
const recipients = [
  { name: 'R1', type: 'node', address: '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', split: 50 },
  { name: 'R2', type: 'node', address: '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5', split: 40 },
  { name: 'R3', type: 'node', address: '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9', split: 10 },
  { name: 'R4', type: 'node', address: '02e493dbf1c10d80f3581e4904930b1404cc6c13900ee0758474fa94abe8c4cd13', split: 2, fee: true },
];
let sequence = 0;
const benchEvent = () => ({
  id: `d-${++sequence}`,
  feedGuid: 'bench-feed',
  itemGuid: 'bench-item',
  position: 0,
  seconds: 60,
  satsPerMinute: 10,
  value: { type: 'lightning', method: 'keysend', recipients },
});

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const unapplied = (databaseUrl: string) =>
  withClient(databaseUrl, async (c) =>
    Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM listening_event WHERE applied_at IS NULL AND apply_error IS NULL')).rows[0]!.n),
  );
// The drain's probe, every 100 ms: a count of the backlog costs PostgreSQL about 300 ms at 50,000 events, CPU the
// 2-core machine then takes from the process being timed; whether one event is left costs next to nothing.
const anyUnapplied = (client: pg.Client) =>
  client
    .query<{ left: boolean }>('SELECT EXISTS (SELECT 1 FROM listening_event WHERE applied_at IS NULL AND apply_error IS NULL) AS left')
    .then((r) => r.rows[0]!.left);

// A backlog as the api leaves it: events stored (the parsed event, defaults filled in), one apply job per request.
async function seedBacklog(ctx: BenchContext, count: number, prefix: string): Promise<void> {
  const payload = JSON.stringify(listeningEventSchema.parse({ ...benchEvent(), id: 'x' }));
  const tag = randomUUID().slice(0, 8);
  const ids = await withClient(ctx.databaseUrl, async (c) => {
    const { rows } = await c.query<{ id: string }>(
      `INSERT INTO listening_event (app_id, event_id, payload, amount_msat)
       SELECT 'bench', $1 || g, jsonb_set($2::jsonb, '{id}', to_jsonb($1 || g)), 10000 FROM generate_series(1, $3::int) g RETURNING id`,
      [`${tag}-`, payload, count],
    );
    // Each turn starts from the same state: the dead rows and dirty pages of the turns and sections before it are
    // cleaned now, not by autovacuum or a checkpoint in the middle of the next turn (one turn of a run was otherwise
    // up to a third slower than the others).
    await c.query('VACUUM (ANALYZE)');
    await c.query('CHECKPOINT');
    return rows.map((r) => r.id);
  });
  const queue = new Queue('ledger', { connection: { url: ctx.redisUrl }, prefix });
  const jobs = [];
  for (let i = 0; i < ids.length; i += EVENTS_PER_REQUEST) jobs.push({ name: 'apply-events', data: { eventIds: ids.slice(i, i + EVENTS_PER_REQUEST) } });
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  await queue.close();
}

interface Drained {
  eventsPerSecond: number;
  events: number;
  cpuMsPerThousand: number; // the draining processes' CPU per 1,000 events
  databaseCpuMsPerThousand: number;
  rss: { idle: number; peak: number; after: number };
}

// Starts `count` processes (already healthy before the clock starts: boot is not counted), seeds the backlog, and
// times until nothing is left unapplied, sampling the first process's RSS every 100 ms.
async function timeDrain(
  ctx: BenchContext,
  start: (index: number) => ReturnType<typeof startProcess>,
  count: number,
  ready: (index: number) => Promise<void>,
  seed?: () => Promise<void>,
): Promise<Drained> {
  const children = Array.from({ length: count }, (_, i) => start(i));
  await Promise.all(children.map((_, i) => ready(i)));
  const idle = rssMegabytes(children[0]!.pid!);
  await seed?.();
  const events = await unapplied(ctx.databaseUrl);
  const database = new DatabaseCpu(ctx.databaseUrl);
  await database.start();
  const cpuBefore = children.map((c) => processCpuMs(c.pid!));
  let peak = idle;
  const started = process.hrtime.bigint();
  await withClient(ctx.databaseUrl, (probe) =>
    until(
      async () => {
        const exited = children.find((c) => c.exitCode !== null || c.signalCode !== null);
        if (exited) throw new Error(`a drained process exited (${exited.exitCode ?? exited.signalCode}) before the backlog was applied`);
        peak = Math.max(peak, rssMegabytes(children[0]!.pid!));
        return !(await anyUnapplied(probe));
      },
      30 * 60_000,
      100,
    ),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = children.reduce((sum, c, i) => sum + processCpuMs(c.pid!) - cpuBefore[i]!, 0);
  const databaseCpu = await database.elapsedMs();
  const after = rssMegabytes(children[0]!.pid!);
  for (const child of children) await stopProcess(child);
  const perThousand = (ms: number) => (ms * 1000) / Math.max(1, events);
  return {
    eventsPerSecond: events / seconds,
    events,
    cpuMsPerThousand: perThousand(cpu),
    databaseCpuMsPerThousand: perThousand(databaseCpu),
    rss: { idle, peak, after },
  };
}

const workers = (ctx: BenchContext, count: number, seed?: () => Promise<void>) =>
  timeDrain(
    ctx,
    (i) =>
      startProcess('dist/apps/worker/src/main.js', { ...ctx.env, NODE_OPTIONS: WORKER_NODE_FLAGS.join(' '), WORKER_PORT: String(ctx.ports.worker + 10 + i) }),
    count,
    (i) => waitHealthy(`http://127.0.0.1:${ctx.ports.worker + 10 + i}/health`),
    seed,
  );

// Anchor (d) on its own queue prefix, so it never takes the service's jobs.
async function anchorDrain(ctx: BenchContext): Promise<Drained> {
  const prefix = `${ctx.prefix}-anchor`;
  return timeDrain(
    ctx,
    () => startProcess('bench/worker-anchor.ts', {}, [ctx.databaseUrl, ctx.redisUrl, prefix, String(ctx.ports.anchor)]),
    1,
    () => waitHealthy(`http://127.0.0.1:${ctx.ports.anchor}/health`),
    () => seedBacklog(ctx, BACKLOG, prefix),
  );
}

const cpu = (d: Drained) => `CPU ${d.cpuMsPerThousand.toFixed(0)} ms + PostgreSQL ${d.databaseCpuMsPerThousand.toFixed(0)} ms per 1,000 events`;

export async function drainSection(ctx: BenchContext): Promise<void> {
  await freshDatabase(ctx.databaseUrl);
  const key = ctx.createKey('bench');

  // The api at full load, 100 events per request: its accepted events/s is what the worker must outrun.
  const api = startProcess('dist/apps/api/src/main.js', ctx.env);
  await waitHealthy(`http://127.0.0.1:${ctx.ports.api}/health`);
  const load = await autocannon({
    url: `http://127.0.0.1:${ctx.ports.api}/v1/events`,
    connections: 50,
    duration: ctx.seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ events: Array.from({ length: EVENTS_PER_REQUEST }, benchEvent) }) }) }],
  });
  await stopProcess(api);
  // Counted from the answers (autocannon's per-second average rounds a few slow requests down to 0).
  const accepted = (load['2xx'] * EVENTS_PER_REQUEST) / ctx.seconds;
  const endToEnd = await workers(ctx, 1);
  ctx.report({
    what: `worker: drain what the api accepted at ${EVENTS_PER_REQUEST} events/request (${endToEnd.events} events, 1 worker)`,
    figure: `${Math.round(endToEnd.eventsPerSecond)} events/s`,
    anchor: `api accepted ${Math.round(accepted)} events/s`,
    ratio: ratio(endToEnd.eventsPerSecond, accepted),
    target: '>= 2.0',
    met: endToEnd.eventsPerSecond >= 2 * accepted,
  });

  // Service and anchor (d) alternated on equal backlogs, in reverse order every other round (neither always runs
  // first, just after the drain above); the median of each.
  const ours: Drained[] = [];
  const anchors: Drained[] = [];
  const turns = [async () => ours.push(await workers(ctx, 1, () => seedBacklog(ctx, BACKLOG, ctx.prefix))), async () => anchors.push(await anchorDrain(ctx))];
  for (let round = 0; round < ROUNDS; round++) for (const turn of round % 2 ? [...turns].reverse() : turns) await turn();
  // Each side's turns are printed in run order.
  const service = [...ours].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond)[Math.floor(ROUNDS / 2)]!;
  const anchor = [...anchors].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond)[Math.floor(ROUNDS / 2)]!;
  ctx.report({
    what: `worker: apply ${BACKLOG} events (4 recipients), 1 worker, median of ${ROUNDS} alternations`,
    figure: `${Math.round(service.eventsPerSecond)} events/s (${ours.map((d) => Math.round(d.eventsPerSecond)).join(', ')}); ${cpu(service)}`,
    anchor: `(d) bare BullMQ + pg, same rows: ${Math.round(anchor.eventsPerSecond)} events/s (${anchors.map((d) => Math.round(d.eventsPerSecond)).join(', ')}); ${cpu(anchor)}`,
    ratio: ratio(service.eventsPerSecond, anchor.eventsPerSecond),
    target: '>= 1.0',
    met: service.eventsPerSecond >= anchor.eventsPerSecond,
  });
  await seedBacklog(ctx, BACKLOG, `${ctx.prefix}-unused`);
  const floor = await balancesOnly(ctx.databaseUrl);
  ctx.report({
    what: `worker: apply ${BACKLOG} events beside the floor of any design`,
    figure: `${Math.round(service.eventsPerSecond)} events/s`,
    anchor: `(e) raw pg, balances only: ${Math.round(floor.eventsPerSecond)} events/s; CPU ${((floor.cpuMs * 1000) / floor.events).toFixed(0)} ms per 1,000 events`,
    ratio: ratio(service.eventsPerSecond, floor.eventsPerSecond),
    target: '-',
    met: null,
  });

  const memory = await workers(ctx, 1, () => seedBacklog(ctx, MEMORY_BACKLOG, ctx.prefix));
  ctx.report({
    what: `memory: worker RSS during a ${MEMORY_BACKLOG / 1000}k-event drain (idle, peak, after)`,
    figure: `${memory.rss.idle}, ${memory.rss.peak}, ${memory.rss.after} MB (${Math.round(memory.eventsPerSecond)} events/s)`,
    anchor: '-',
    ratio: null,
    target: `peak <= ${WORKER_PEAK_TARGET_MB} MB`,
    met: memory.rss.peak <= WORKER_PEAK_TARGET_MB,
  });

  const scale: number[] = [];
  for (const count of [1, 2, 3]) {
    const drained = await workers(ctx, count, () => seedBacklog(ctx, BACKLOG, ctx.prefix));
    scale.push(drained.eventsPerSecond);
    ctx.report({
      what: `scaling out: apply ${BACKLOG} events, ${count} worker${count > 1 ? 's' : ''}`,
      figure: `${Math.round(drained.eventsPerSecond)} events/s; ${cpu(drained)}`,
      anchor: count === 1 ? '-' : `1 worker: ${Math.round(scale[0]!)} events/s`,
      ratio: count === 1 ? null : ratio(drained.eventsPerSecond, scale[0]!),
      target: '-',
      met: null,
    });
  }
}

export const drain: BenchSection = { name: 'drain', run: drainSection };
