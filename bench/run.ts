// npm run bench: every throughput and memory figure of splitstream beside an anchor measured in the same run on
// the same machine, and the ratio. Runs against its own database (<DATABASE_URL name>_bench) and queue prefix.
// Anchors: a bare Fastify endpoint doing one BullMQ add (ingest); bench/drain.ts's own (the worker's drain); the
// wallet's own round trips (payout); a plain 4-recipient block (split cost).
// BENCH_ONLY=split,capped,cli,throughput,drain runs only the sections named.
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadConfig, parseSimulatorConfig } from '@splitstream/config';
import { adversarialBlock, worstAllowedBlock } from '../libs/money/src/testing/adversarial.js';
import { drainSection } from './drain.js';
import { refuseMs, splitMs } from './split-cost.js';
import { benchPorts, freshDatabase, ratio, rssMegabytes, startProcess, stopProcess, until, waitHealthy } from './support.js';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const PAYOUT_RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 10_000);

const config = loadConfig();
const database = new URL(config.DATABASE_URL);
database.pathname = `${database.pathname}_bench`;
const prefix = `ssbench-${randomUUID().slice(0, 8)}`;
const ports = benchPorts();
// The simulator reads SIM_PORT and SIM_ACCESS_TOKEN; the service pays it through ALBY_API_URL and ALBY_ACCESS_TOKEN.
const simToken = parseSimulatorConfig(process.env).SIM_ACCESS_TOKEN;
const env = {
  DATABASE_URL: database.toString(),
  REDIS_URL: config.REDIS_URL,
  QUEUE_PREFIX: prefix,
  LOG_LEVEL: 'warn',
  API_PORT: String(ports.api),
  WORKER_PORT: String(ports.worker),
  SIM_PORT: String(ports.sim),
  SIM_ACCESS_TOKEN: simToken,
  ALBY_API_URL: `http://127.0.0.1:${ports.sim}`,
  ALBY_ACCESS_TOKEN: simToken,
  // Several workers and apis run side by side and nothing scrapes them: no /metrics listeners.
  METRICS_PORT: '0',
  WORKER_METRICS_PORT: '0',
  EVENTS_RATE_LIMIT_PER_MINUTE: '100000000',
  // Every app has caps: these are high enough for the throughput runs (the capped section sets its own).
  DEFAULT_APP_DAY_CAP_SATS: '1000000000000',
  DEFAULT_APP_MONTH_CAP_SATS: '1000000000000',
  MIN_PAYOUT_SATS: '1',
  KEYSEND_BATCH_SIZE: '100',
  ALBY_MAX_REQUESTS_PER_SECOND: '100',
  PAYOUT_INTERVAL_SECONDS: '86400',
  RECONCILE_INTERVAL_SECONDS: '86400',
};
const rows: { what: string; figure: string; anchor: string; ratio: string; target: string }[] = [];
const report = (what: string, figure: string, anchor: string, r: number | null, target: string) =>
  rows.push({ what, figure, anchor, ratio: r === null ? '-' : r.toFixed(2), target });

const pubkey = (n: number) => Buffer.from(secp256k1.getPublicKey(Buffer.from((BigInt(n) + 1n).toString(16).padStart(64, '0'), 'hex'), true)).toString('hex');
const recipients = [1, 2, 3, 4].map((n, i) => ({ name: `R${n}`, type: 'node', address: pubkey(n), split: [50, 40, 10, 2][i]!, ...(i === 3 && { fee: true }) }));
let sequence = 0;
const event = () => ({
  id: `e-${++sequence}`,
  feedGuid: 'bench-feed',
  itemGuid: 'bench-item',
  position: 0,
  seconds: 60,
  satsPerMinute: 10,
  value: { type: 'lightning', method: 'keysend', recipients },
});

// ---- ingest ----------------------------------------------------------------------------------------------
async function load(url: string, eventsPerRequest: number, key: string) {
  const run = (duration: number) =>
    autocannon({
      url: `${url}/v1/events`,
      connections: CONNECTIONS,
      duration,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ events: Array.from({ length: eventsPerRequest }, event) }) }) }],
    });
  await run(2); // warm-up
  const result = await run(DURATION_S);
  if (result.non2xx || result.errors) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

const cli = (...args: string[]) => spawnSync('node', ['dist/apps/cli/src/main.js', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
const createKey = (app = 'bench') => {
  const created = spawnSync(
    'node',
    ['dist/apps/cli/src/main.js', 'keys', 'create', '--name', app, '--scopes', 'events:write,payouts:read,payouts:write,admin'],
    {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    },
  );
  if (created.status !== 0) throw new Error(created.stderr);
  return created.stdout.trim().split('\n').at(-1)!;
};

// ---- drain ----------------------------------------------------------------------------------------------
const db = () => new pg.Client({ connectionString: database.toString() });

// ---- payout ----------------------------------------------------------------------------------------------
async function seedOwed(count: number) {
  const client = db();
  await client.connect();
  const keys = Array.from({ length: count }, (_, i) => pubkey(100_000 + i));
  await client.query('BEGIN');
  const { rows: ids } = await client.query<{ id: string }>(`INSERT INTO recipient (address) SELECT a FROM unnest($1::text[]) a RETURNING id`, [keys]);
  await client.query(`INSERT INTO app_recipient (recipient_id, app_id, name) SELECT r, 'bench', 'bench' FROM unnest($1::bigint[]) r`, [ids.map((r) => r.id)]);
  await client.query(
    `INSERT INTO balance (recipient_id, app_id, feed_guid, item_guid, accrued_msat, owed_msat) SELECT r, 'bench', 'bench-feed', 'payout-item', 10000, 10000 FROM unnest($1::bigint[]) r`,
    [ids.map((r) => r.id)],
  );
  await client.query('COMMIT');
  await client.end();
}

const sim = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${ports.sim}${path}`, init);
async function walletRoundTrips(count: number): Promise<number> {
  const keysends = Array.from({ length: 100 }, (_, i) => ({ destination: pubkey(200_000 + i), amount: 10, memo: 'anchor', customRecords: {} }));
  const started = process.hrtime.bigint();
  for (let i = 0; i < count / 100; i++) {
    const res = await sim('/payments/keysend/multi', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${simToken}` },
      body: JSON.stringify({ keysends }),
    });
    if (res.status !== 200) throw new Error(`sim answered ${res.status}`);
  }
  return Number(process.hrtime.bigint() - started) / 1e6;
}

// ---- capped ingest under load -----------------------------------------------------------------------------
// Far more concurrent requests than the api has database connections (pg's pool: 10), on an app with its own
// day, month and listener caps: every request is charged in the insert's statement. Counts 5xx (target 0).
const CAPPED_CONNECTIONS = 400;
async function cappedLoad(key: string) {
  let listener = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${ports.api}/v1/events`,
    connections: CAPPED_CONNECTIONS,
    duration: DURATION_S,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ events: Array.from({ length: 10 }, () => ({ ...event(), listenerId: `l-${++listener % 1000}` })) }),
        }),
      },
    ],
  });
  return { rps: result.requests.average, p99: result.latency.p99, total: result.requests.total, fiveXx: result['5xx'], errors: result.errors };
}

// ---- the run ---------------------------------------------------------------------------------------------
const only = process.env.BENCH_ONLY?.split(',');
const wanted = (section: string) => !only || only.includes(section);

if (wanted('split')) {
  const plain = splitMs({ type: 'lightning', method: 'keysend', recipients });
  const worst = splitMs(worstAllowedBlock(), 50);
  report(
    'split cost: worst block the limits allow (300 recipients, 100 time splits, 6-decimal splits), per event',
    `split ${worst.splitMs.toFixed(2)} ms + validation ${worst.parseMs.toFixed(2)} ms`,
    `4 recipients: split ${plain.splitMs.toFixed(3)} ms`,
    ratio(worst.splitMs, plain.splitMs),
    'split < 5 ms',
  );
  report(
    "split cost: refusing issue 20's attack (1e300 splits, 100 recipients x 10 time splits)",
    `${refuseMs(adversarialBlock('huge', 10)).toFixed(1)} ms`,
    '-',
    null,
    '< 100 ms',
  );
}

if (wanted('capped')) {
  await freshDatabase(database.toString());
  const cappedKey = createKey('bench-capped');
  const capped = cli(
    'apps',
    'caps',
    'bench-capped',
    '--day-msat',
    '1000000000000000',
    '--month-msat',
    '1000000000000000',
    '--listener-day-msat',
    '1000000000000',
  );
  if (capped.status !== 0) throw new Error(capped.stderr);
  const cappedApi = startProcess('dist/apps/api/src/main.js', env);
  await waitHealthy(`http://127.0.0.1:${ports.api}/health`);
  const load = await cappedLoad(cappedKey);
  await stopProcess(cappedApi);
  report(
    `POST /v1/events with caps (day, month, listener), 10 events/request, ${CAPPED_CONNECTIONS} conn, pool of 10`,
    `${load.fiveXx} 5xx of ${load.total} (${load.errors} errors); ${Math.round(load.rps)} req/s (p99 ${load.p99} ms)`,
    '-',
    null,
    '0 5xx',
  );
}

if (wanted('cli')) {
  await freshDatabase(database.toString());
  createKey('bench-cli');
  // Median wall time of a command, process start to exit; the anchor is a bare `node -e ''`.
  const medianMs = (args: string[]) => {
    const times = Array.from({ length: 5 }, () => {
      const started = performance.now();
      const result = spawnSync('node', args, { env: { ...process.env, ...env }, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
      return performance.now() - started;
    }).sort((a, b) => a - b);
    return times[2]!;
  };
  const bare = medianMs(['-e', '']);
  for (const command of [
    ['keys', 'list'],
    ['apps', 'show', 'bench-cli'],
    ['ledger', 'check'],
    ['payments', 'reconcile'],
  ]) {
    const ms = medianMs(['dist/apps/cli/src/main.js', ...command]);
    report(`CLI: ${command.join(' ')} (median of 5)`, `${Math.round(ms)} ms`, `node -e '': ${Math.round(bare)} ms`, ratio(ms, bare), '< 2,000 ms');
  }
}

if (wanted('throughput')) {
  await freshDatabase(database.toString());
  const key = createKey();

  const api = startProcess('dist/apps/api/src/main.js', env);
  const bare = startProcess('bench/bare-endpoint.ts', {}, [String(ports.bare), config.REDIS_URL, prefix]);
  await Promise.all([waitHealthy(`http://127.0.0.1:${ports.api}/health`), waitHealthy(`http://127.0.0.1:${ports.bare}/health`)]);
  for (const size of [1, 100]) {
    const ours = await load(`http://127.0.0.1:${ports.api}`, size, key);
    const anchor = await load(`http://127.0.0.1:${ports.bare}`, size, key);
    report(
      `POST /v1/events, ${size} event${size > 1 ? 's' : ''}/request, ${CONNECTIONS} conn`,
      `${Math.round(ours.rps)} req/s (p99 ${ours.p99} ms)`,
      `${Math.round(anchor.rps)} req/s`,
      ratio(ours.rps, anchor.rps),
      '>= 0.6, p99 < 100 ms',
    );
  }
  const apiRss = rssMegabytes(api.pid!);
  await stopProcess(bare);
  await stopProcess(api);

  const simProcess = startProcess('dist/apps/alby-sim/src/main.js', env);
  await waitHealthy(`http://127.0.0.1:${ports.sim}/health`);
  await sim('/admin/settings', {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ latencyMs: 0, rateLimitPerSecond: 100_000, rateLimitBurst: 100_000 }),
  });
  const walletMs = await walletRoundTrips(PAYOUT_RECIPIENTS);
  // A database of its own: the drains above leave the four bench recipients with hundreds of thousands of
  // allocations, whose linking would be measured instead of the run (see the README's benchmark notes).
  await freshDatabase(database.toString());
  const payoutKey = createKey();
  await seedOwed(PAYOUT_RECIPIENTS);
  const payApi = startProcess('dist/apps/api/src/main.js', env);
  const payWorker = startProcess('dist/apps/worker/src/main.js', env);
  await Promise.all([waitHealthy(`http://127.0.0.1:${ports.api}/health`), waitHealthy(`http://127.0.0.1:${ports.worker}/health`)]);
  const started = await fetch(`http://127.0.0.1:${ports.api}/v1/payouts/run`, { method: 'POST', headers: { authorization: `Bearer ${payoutKey}` } }).then(
    (r) => r.json() as Promise<{ id: string }>,
  );
  let payout: { status: string; startedAt: string; finishedAt: string; totals: { succeeded: number } } | undefined;
  await until(
    async () => {
      payout = await fetch(`http://127.0.0.1:${ports.api}/v1/payouts/${started.id}`, { headers: { authorization: `Bearer ${payoutKey}` } }).then(
        (r) => r.json() as Promise<typeof payout>,
      );
      return payout!.finishedAt !== null;
    },
    10 * 60_000,
    200,
  );
  const runMs = new Date(payout!.finishedAt).getTime() - new Date(payout!.startedAt).getTime();
  const workerRss = rssMegabytes(payWorker.pid!);
  report(
    `payout run: ${PAYOUT_RECIPIENTS} recipients, 100 keysends/request, instant wallet (${payout!.totals.succeeded} paid)`,
    `${(runMs / 1000).toFixed(1)} s = ${((runMs - walletMs) / PAYOUT_RECIPIENTS).toFixed(2)} ms of ours per keysend`,
    `wallet round trips ${(walletMs / 1000).toFixed(1)} s`,
    null,
    '<= 10 s, <= 1 ms/keysend',
  );
  await Promise.all([stopProcess(payApi), stopProcess(payWorker), stopProcess(simProcess)]);
  report('memory: api RSS after the ingest runs', `${apiRss} MB`, '-', null, '< 200 MB');
  report('memory: worker RSS after the payout', `${workerRss} MB`, '-', null, '< 250 MB');
}

if (wanted('drain')) {
  await drainSection({
    env,
    ports,
    databaseUrl: database.toString(),
    redisUrl: config.REDIS_URL,
    prefix,
    seconds: DURATION_S,
    createKey,
    report: (row) => report(row.what, row.figure, row.anchor, row.ratio, row.met === null ? row.target : `${row.target} (${row.met ? 'met' : 'NOT met'})`),
  });
}

console.log(`\nsplitstream benchmarks, ${new Date().toISOString().slice(0, 10)}, ${(await import('node:os')).cpus().length} cores, Node ${process.version}\n`);
console.log('| what | splitstream | anchor | ratio | target |\n| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.what} | ${r.figure} | ${r.anchor} | ${r.ratio} | ${r.target} |`);
process.exit(0);
