// The worker applying a seeded backlog, beside raw `pg` doing the ledger's writes (bench/anchors.ts), and the
// worker's RSS after it. The worker helper's section (anchors (d) and (e) of issue 23) replaces this one.
import { Queue } from 'bullmq';
import pg from 'pg';
import { listeningEventSchema } from '@splitstream/ingestion';
import { rawPgApply } from '../anchors.js';
import {
  type BenchContext,
  benchEvent,
  benchRecipients,
  type BenchSection,
  freshDatabase,
  ratio,
  rssMegabytes,
  startProcess,
  stopProcess,
  until,
  waitHealthy,
} from '../support.js';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50_000);

async function unapplied(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const {
    rows: [row],
  } = await client.query<{ n: string }>('SELECT count(*) AS n FROM listening_event WHERE applied_at IS NULL AND apply_error IS NULL');
  await client.end();
  return Number(row!.n);
}

// A backlog as the api leaves it: events stored, one apply job per 100-event request.
async function seedBacklog(ctx: BenchContext, count: number, tag: string) {
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  await client.connect();
  // Stored as the api stores it: the parsed event, defaults filled in.
  const payload = JSON.stringify(listeningEventSchema.parse({ ...benchEvent(), id: 'x' }));
  const { rows: ids } = await client.query<{ id: string }>(
    `INSERT INTO listening_event (app_id, event_id, payload, amount_msat)
     SELECT 'bench', $1 || g, jsonb_set($2::jsonb, '{id}', to_jsonb($1 || g)), 10000 FROM generate_series(1, $3::int) g RETURNING id`,
    [`${tag}-`, payload, count],
  );
  await client.end();
  const queue = new Queue('ledger', { connection: { url: ctx.redisUrl }, prefix: ctx.prefix });
  const jobs = [];
  for (let i = 0; i < ids.length; i += 100) jobs.push({ name: 'apply-events', data: { eventIds: ids.slice(i, i + 100).map((r) => r.id) } });
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  await queue.close();
}

// Workers are up (healthy) before the clock starts, so their boot is not counted; whatever they applied while
// booting is not counted either: the backlog is what is left when the clock starts.
async function drainBacklog(ctx: BenchContext, workers: number, tag: string): Promise<{ rate: number; rss: number }> {
  const children = Array.from({ length: workers }, (_, i) =>
    startProcess('dist/apps/worker/src/main.js', { ...ctx.env, WORKER_PORT: String(ctx.ports.worker + i) }),
  );
  await Promise.all(children.map((_, i) => waitHealthy(`http://127.0.0.1:${ctx.ports.worker + i}/health`)));
  await seedBacklog(ctx, BACKLOG, tag);
  const backlog = await unapplied(ctx.databaseUrl);
  const started = process.hrtime.bigint();
  await until(async () => (await unapplied(ctx.databaseUrl)) === 0, 30 * 60_000, 100);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rss = rssMegabytes(children[0]!.pid!);
  for (const child of children) await stopProcess(child);
  return { rate: backlog / seconds, rss };
}

export const drain: BenchSection = {
  name: 'drain',
  async run(ctx) {
    await freshDatabase(ctx.databaseUrl);
    ctx.createKey();
    const anchorEvents = Array.from({ length: BACKLOG }, (_, i) => ({
      id: `anchor-${i}`,
      amountMsat: 10_000n,
      recipients: benchRecipients.map((r) => r.address),
    }));
    const rawRate = await rawPgApply(ctx.databaseUrl, anchorEvents, 100);
    const one = await drainBacklog(ctx, 1, 'one');
    ctx.report({
      what: `worker: apply ${BACKLOG} events (4 recipients), 1 worker`,
      figure: `${Math.round(one.rate)} events/s`,
      anchor: `raw pg ${Math.round(rawRate)} events/s`,
      ratio: ratio(one.rate, rawRate),
      target: '>= 0.5',
      met: ratio(one.rate, rawRate) >= 0.5,
    });
    const two = await drainBacklog(ctx, 2, 'two');
    ctx.report({
      what: `worker: apply ${BACKLOG} events, 2 workers`,
      figure: `${Math.round(two.rate)} events/s`,
      anchor: `raw pg ${Math.round(rawRate)} events/s`,
      ratio: ratio(two.rate, rawRate),
      target: '-',
      met: null,
    });
    const rss = Math.max(one.rss, two.rss);
    ctx.report({ what: 'memory: worker RSS after the drains', figure: `${rss} MB`, anchor: '-', ratio: null, target: '< 250 MB', met: rss < 250 });
  },
};
