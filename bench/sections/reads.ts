// Reads at scale (issue 23): BENCH_READS_EVENTS events (5 million by default) and their allocations seeded in SQL
// (bench/reads-seed.ts) into a database of its own, then p50 and p95 of every read endpoint, first and deep pages,
// for an app key and an admin key, requested round-robin so a noisy machine slows them all alike. The anchor is
// GET /v1/apps/me in the same rounds: the service's cheapest authenticated read (key lookup, one row).
// And the ledger check, over HTTP and from the command line.
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { sealCursor } from '../../apps/api/src/http/cursors.js';
import { HOT_RECIPIENT_ID, readsApp, readsKeys, readsShape, seedReads } from './reads-seed.js';
import { type BenchRow, type BenchSection, benchPorts, freshDatabase, ratio, startProcess, stopProcess, waitHealthy } from '../support.js';

export interface ReadsContext {
  // The bench's own environment for the service's processes (REDIS_URL, QUEUE_PREFIX, ...) and its database.
  env: Record<string, string>;
  databaseUrl: string;
}

const TARGET_MS = 100;
const CHECK_TARGET_S = 30;
const ROUNDS = Number(process.env.BENCH_READS_ROUNDS ?? 15);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

export async function readsSection(ctx: ReadsContext): Promise<BenchRow[]> {
  const shape = readsShape(Number(process.env.BENCH_READS_EVENTS ?? 5_000_000));
  const url = Object.assign(new URL(ctx.databaseUrl), { pathname: `${new URL(ctx.databaseUrl).pathname}_reads` }).toString();
  // BENCH_READS_REUSE=1: measure the database a previous run seeded (seeding is most of the section's time).
  const seeded = process.env.BENCH_READS_REUSE === '1' ? null : await freshDatabase(url).then(() => seedReads(url, shape));
  const keys = await readsKeys(url);
  const rows: BenchRow[] = [];
  if (seeded)
    rows.push({
      what: `reads: seed ${shape.events.toLocaleString('en')} events, ${seeded.allocations.toLocaleString('en')} allocations (SQL, indexes rebuilt)`,
      figure: `${seeded.seconds.toFixed(0)} s`,
      anchor: '-',
      ratio: null,
      target: 'minutes',
      met: seeded.seconds < 600,
    });

  const port = benchPorts().spare;
  const env = { ...ctx.env, DATABASE_URL: url, API_PORT: String(port) };
  const api = startProcess('dist/apps/api/src/main.js', env);
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(`${base}/health`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const {
      rows: [secret],
    } = await client.query<{ cursor_key: Buffer }>('SELECT cursor_key FROM installation_secret WHERE id = 1');
    const { rows: middle } = await client.query<{ event: string; payment: string; recipient: string; first_event: string }>(
      `SELECT (SELECT event_id FROM listening_event WHERE app_id = $1 ORDER BY app_id, id LIMIT 1) AS first_event,
              (SELECT id FROM listening_event WHERE app_id = $1 AND id < (SELECT MAX(id) / 2 FROM listening_event) ORDER BY app_id DESC, id DESC LIMIT 1) AS event,
              (SELECT MAX(id) / 2 FROM payment) AS payment, (SELECT MAX(id) / 2 FROM recipient) AS recipient`,
      [readsApp(1)],
    );
    await client.end();
    // Both keys are named after app 1: a cursor binds the list and the key's app.
    const deep = (list: 'events' | 'payments' | 'recipients' | 'payouts', id: string | number) =>
      `before=${sealCursor(secret!.cursor_key, readsApp(1), list, BigInt(id))}`;
    const m = middle[0]!;
    const week = 'from=2026-11-10&to=2026-11-17';
    const paths: [string, string][] = [
      ['summary', '/v1/summary'],
      ['events, first page', '/v1/events'],
      ['events, deep page', `/v1/events?${deep('events', m.event)}`],
      ['events of a feed', '/v1/events?feedGuid=feed-3'],
      ['events awaiting', '/v1/events?status=awaiting'],
      ['event with its allocations', `/v1/events/${m.first_event}?app=${readsApp(1)}`],
      ['recipients, first page', '/v1/recipients'],
      ['recipients, deep page', `/v1/recipients?${deep('recipients', m.recipient)}`],
      ['recipients parked', '/v1/recipients?parked=true'],
      ['recipients top', '/v1/recipients/top'],
      ['recipient (1M allocations)', `/v1/recipients/${HOT_RECIPIENT_ID}`],
      ['payments, first page', '/v1/payments'],
      ['payments, deep page', `/v1/payments?${deep('payments', m.payment)}`],
      ['payments parked', '/v1/payments?status=parked'],
      ['payments of a recipient', `/v1/payments?recipient=${HOT_RECIPIENT_ID}`],
      ['payouts, first page', '/v1/payouts'],
      ['payouts, deep page', `/v1/payouts?${deep('payouts', Math.ceil(shape.payouts / 2))}`],
      ['paid per hour (31 days)', '/v1/payouts/paid-per-hour?hours=744'],
      ['statement (1M allocations)', `/v1/recipients/${HOT_RECIPIENT_ID}/statement`],
      ['statement (1M allocations), one week', `/v1/recipients/${HOT_RECIPIENT_ID}/statement?${week}`],
      ['feed summary', '/v1/feeds/feed-0/summary'],
    ];
    const anchorPath = '/v1/apps/me';
    const callers = [
      ['app key', keys.appKey],
      ['admin key', keys.adminKey],
    ] as const;
    const timed = async (path: string, key: string) => {
      const started = process.hrtime.bigint();
      const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(600_000) });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const samples = new Map<string, number[]>();
    const record = (name: string, ms: number) => samples.set(name, [...(samples.get(name) ?? []), ms]);
    for (let round = -2; round < ROUNDS; round++) {
      for (const [who, key] of callers) {
        const anchorMs = await timed(anchorPath, key);
        if (round >= 0) record(`${who} ${anchorPath}`, anchorMs);
        for (const [what, path] of paths) {
          const ms = await timed(path, key);
          if (round >= 0) record(`${who}: ${what}`, ms);
        }
      }
    }
    for (const [who] of callers) {
      const anchor = percentile(
        samples.get(`${who} ${anchorPath}`)!.sort((x, y) => x - y),
        50,
      );
      for (const [what, path] of paths) {
        const sorted = samples.get(`${who}: ${what}`)!.sort((x, y) => x - y);
        const p50 = percentile(sorted, 50);
        rows.push({
          what: `reads (${who}): ${what} (GET ${path.split('?')[0]})`,
          figure: `p50 ${p50.toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms`,
          anchor: `GET ${anchorPath} p50 ${anchor.toFixed(1)} ms`,
          ratio: ratio(p50, anchor),
          target: `p50 < ${TARGET_MS} ms`,
          met: p50 < TARGET_MS,
        });
      }
    }

    // A check that does not hold (or fails) is a row that says so, not the end of the bench's table.
    const checkRow = (what: string, seconds: number, failure: string | null): BenchRow => ({
      what: `reads: ledger check (${what})`,
      figure: failure ?? `${seconds.toFixed(2)} s`,
      anchor: '-',
      ratio: null,
      target: `< ${CHECK_TARGET_S} s`,
      met: failure === null && seconds < CHECK_TARGET_S,
    });
    const checks: number[] = [];
    let httpFailure: string | null = null;
    for (let i = 0; i < 3 && httpFailure === null; i++)
      checks.push(await timed('/v1/ledger/check', keys.adminKey).catch((error: Error) => ((httpFailure = error.message), Infinity)));
    rows.push(checkRow('GET /v1/ledger/check, best of 3', Math.min(...checks) / 1000, httpFailure));
    const started = process.hrtime.bigint();
    const cli = spawnSync('node', ['dist/apps/cli/src/main.js', 'ledger', 'check'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const cliCheck = Number(process.hrtime.bigint() - started) / 1e9;
    rows.push(
      checkRow(
        'npm run cli -- ledger check, process start included',
        cliCheck,
        cli.status === 0 ? null : `failed: ${`${cli.stdout}${cli.stderr}`.slice(0, 300)}`,
      ),
    );
  } finally {
    await stopProcess(api);
  }
  return rows;
}

export const reads: BenchSection = {
  name: 'reads',
  async run(ctx) {
    for (const row of await readsSection({ env: ctx.env, databaseUrl: ctx.databaseUrl })) ctx.report(row);
  },
};
