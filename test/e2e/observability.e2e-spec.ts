import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { truncateAll } from '../support/database.js';
import { eventually, PROCESS_BOOT_MS, request } from '../support/http.js';
import { type Nwc, startNwc } from '../support/nwc-sim.js';
import { freePort } from '../support/outages.js';
import { storeSetAsideEvent } from '../support/set-aside.js';
import { type Stack, startStack } from '../support/stack.js';
import { testConfig } from '../support/test-config.js';

const events = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    feedGuid: 'feed-obs',
    itemGuid: 'item-obs',
    position: 0,
    seconds: 60,
    satsPerMinute: 100,
    value: {
      type: 'lightning',
      method: 'keysend',
      recipients: [
        { name: 'Host', type: 'node', address: pubkey(0x0b5), split: 9 },
        { name: 'Guest', type: 'node', address: pubkey(0x0b6), customKey: '696969', customValue: 'w', split: 1 },
      ],
    },
  }));

const sample = (metrics: string, series: string): number | undefined => {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

// The series a scrape publishes (one `# TYPE` line each).
const seriesOf = (metrics: string): Set<string> => new Set([...metrics.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));

describe('metrics (e2e)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('exposes the service series on the api and the worker after a payout run, on their internal metrics ports', async () => {
    await stack.postEvents(events('m', 3));
    // Each event of a batch counts under its own answer: one rejected, one duplicate, one conflicting.
    const [resent] = events('m', 1);
    await stack.http.post('/v1/events', { events: [{ id: 'bad' }, resent, { ...resent, satsPerMinute: 50 }] });
    await stack.accumulated();
    await stack.runPayout();
    expect(stack.metricsUrl).toBe(`http://127.0.0.1:${stack.config.METRICS_PORT}/metrics`);
    expect(stack.workerMetricsUrl).toBe(`http://127.0.0.1:${stack.config.WORKER_METRICS_PORT}/metrics`);
    const scrape = await fetch(stack.metricsUrl);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const api = await scrape.text();
    const worker = await (await fetch(stack.workerMetricsUrl!)).text();

    expect(sample(api, 'splitstream_events_accepted_total')).toBe(3);
    expect(sample(api, 'splitstream_events_rejected_total')).toBe(1);
    expect(sample(api, 'splitstream_events_conflict_total')).toBe(1);
    expect(sample(api, 'splitstream_events_duplicate_total')).toBe(1);
    expect(sample(api, 'splitstream_owed_msat')).toBe(0);
    for (const gauge of ['in_flight_msat', 'parked_msat', 'parked_recipients', 'unknown_msat', 'unknown_keysends']) {
      expect([gauge, sample(api, `splitstream_${gauge}`)]).toEqual([gauge, 0]);
    }
    expect(sample(api, 'splitstream_accumulation_lag_seconds')).toBe(0);
    expect(sample(api, 'splitstream_queue_jobs{queue="ledger",state="waiting"}')).toBe(0);

    expect(sample(worker, 'splitstream_payout_runs_total{status="completed"}')).toBe(1);
    expect(sample(worker, 'splitstream_payout_run_seconds_count{status="completed"}')).toBe(1);
    expect(sample(worker, 'splitstream_keysends_total{outcome="paid"}')).toBe(2);
    expect(sample(worker, 'splitstream_paid_sats_total')).toBe(300);
    expect(sample(worker, 'splitstream_fee_sats_total')).toBe(2);
    expect(sample(worker, 'splitstream_wallet_request_seconds_count{route="/payments/keysend/multi",outcome="http_200"}')).toBe(1);
    expect(worker).toContain('splitstream_wallet_request_seconds_bucket{le="0.1",route="/payments/keysend/multi",outcome="http_200"}');

    // Each series from the process that moves it: the api publishes none of the worker's (no 0 beside the true
    // value), the worker none of the api's; the series read from the database are the same on both.
    const workerOnly = ['paid_sats_total', 'fee_sats_total', 'payout_runs_total', 'payout_run_seconds', 'keysends_total', 'wallet_request_seconds'];
    const apiOnly = ['events_accepted_total', 'events_rejected_total', 'events_duplicate_total', 'rate_limit_fallback_total'];
    for (const name of workerOnly)
      expect([name, seriesOf(worker).has(`splitstream_${name}`), seriesOf(api).has(`splitstream_${name}`)]).toEqual([name, true, false]);
    for (const name of apiOnly)
      expect([name, seriesOf(api).has(`splitstream_${name}`), seriesOf(worker).has(`splitstream_${name}`)]).toEqual([name, true, false]);
    expect(api).not.toMatch(/splitstream_paid_sats_total 0/);
    // Every queue from both processes (the api enqueues no address resolution, but reports its queue too).
    const queues = (metrics: string) => [...new Set([...metrics.matchAll(/^splitstream_queue_jobs\{queue="([\w-]+)"/gm)].map((m) => m[1]))].sort();
    expect(queues(api)).toEqual(['boost-values', 'boosts', 'event-values', 'ledger', 'lnaddress', 'payouts', 'reconciliation']);
    expect(queues(worker)).toEqual(queues(api));
    for (const gauge of ['owed_msat', 'in_flight_msat', 'accumulation_lag_seconds', 'set_aside_events']) {
      expect([gauge, sample(worker, `splitstream_${gauge}`)]).toEqual([gauge, sample(api, `splitstream_${gauge}`)]);
    }
  });

  it('publishes no wallet balance on the Alby rail, which cannot report one (absent, not 0)', async () => {
    // The worker has looked at its wallet (and published what it saw) by the time the api's admin /health shows it.
    await eventually(
      () => stack.http.get('/health'),
      (r) => r.body?.details?.wallet?.state === 'reported' && r.body.details.wallet.reachable === true,
      15_000,
    );
    for (const url of [stack.metricsUrl, stack.workerMetricsUrl!]) {
      const series = seriesOf(await (await fetch(url)).text());
      expect([url, series.has('splitstream_wallet_balance_msat'), series.has('splitstream_wallet_balance_reported_timestamp_seconds')]).toEqual([
        url,
        false,
        false,
      ]);
    }
  });

  it('leaves set-aside events out of the accumulation lag and counts them in a series of their own', async () => {
    const before = await (await fetch(stack.metricsUrl)).text();
    expect(sample(before, 'splitstream_set_aside_events')).toBe(0);
    await storeSetAsideEvent(stack, 'test-app', 'aside-1');
    await stack.postEvents(events('after', 1));
    await stack.accumulated();
    for (const url of [stack.metricsUrl, stack.workerMetricsUrl!]) {
      const metrics = await (await fetch(url)).text();
      // Received an hour ago and never applied, it would read 3600 s of lag, and growing.
      expect([url, sample(metrics, 'splitstream_accumulation_lag_seconds')]).toEqual([url, 0]);
      expect([url, sample(metrics, 'splitstream_set_aside_events')]).toEqual([url, 1]);
    }
  });

  it('serves no /metrics on the public api and worker ports, with or without a key; the internal listener serves nothing else', async () => {
    for (const base of [stack.baseUrl, stack.workerUrl!]) {
      const open = await request(base, '/metrics');
      expect([base, open.status]).toEqual([base, 404]);
      expect(String(JSON.stringify(open.body))).not.toContain('splitstream_');
    }
    expect((await stack.http.get('/metrics')).status).toBe(404); // an admin key changes nothing
    const internal = new URL(stack.metricsUrl).origin;
    for (const path of ['/', '/health', '/metricsx', '/v1/summary']) {
      const answer = await fetch(`${internal}${path}`);
      expect([path, answer.status, await answer.json()]).toEqual([path, 404, { error: 'not_found', message: 'this listener serves GET /metrics only' }]);
    }
    expect((await fetch(stack.metricsUrl, { method: 'POST' })).status).toBe(404);
  });
});

describe('metrics on the NWC rail (e2e)', () => {
  let nwc: Nwc;
  let stack: Stack;
  let bootedAt: number;
  beforeAll(async () => {
    bootedAt = Date.now() / 1000;
    nwc = await startNwc();
    stack = await startStack(nwc.overrides);
  });
  afterAll(async () => {
    await stack.close();
    await nwc.close();
  });

  it("publishes the wallet balance NWC get_balance reports, and when it did, on the worker's /metrics only", async () => {
    const worker = await eventually(
      async () => (await fetch(stack.workerMetricsUrl!)).text(),
      (text) => text.includes('splitstream_wallet_balance_msat '),
      15_000,
    );
    expect(sample(worker, 'splitstream_wallet_balance_msat')).toBe(nwc.wallet.settings.balanceMsat);
    const reportedAt = sample(worker, 'splitstream_wallet_balance_reported_timestamp_seconds');
    expect(reportedAt).toBeGreaterThanOrEqual(bootedAt);
    expect(reportedAt).toBeLessThanOrEqual(Date.now() / 1000);
    const api = seriesOf(await (await fetch(stack.metricsUrl)).text());
    expect([api.has('splitstream_wallet_balance_msat'), api.has('splitstream_wallet_balance_reported_timestamp_seconds')]).toEqual([false, false]);
  });
});

// Real processes, logs captured from their output: structured, with request ids, and never a secret.
describe('logs of a full run (e2e)', () => {
  const albyToken = `alby-secret-${randomUUID()}`;
  const children: ChildProcess[] = [];
  let output = '';

  const start = (entry: string, env: Record<string, string>) => {
    const child = spawn('node', [entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    children.push(child);
    return child;
  };

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    }
  });

  it(
    'contains request ids, and neither the Alby token nor any API key',
    async () => {
      const [simPort, apiPort, workerPort, apiMetricsPort, workerMetricsPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const base = testConfig();
      await truncateAll(base.DATABASE_URL);
      const env = {
        DATABASE_URL: base.DATABASE_URL,
        REDIS_URL: base.REDIS_URL,
        QUEUE_PREFIX: `sstest-logs-${randomUUID().slice(0, 8)}`,
        WALLET_BACKEND: 'alby',
        ALBY_API_URL: `http://127.0.0.1:${simPort}`,
        ALBY_ACCESS_TOKEN: albyToken,
        API_PORT: String(apiPort),
        WORKER_PORT: String(workerPort),
        METRICS_PORT: String(apiMetricsPort),
        WORKER_METRICS_PORT: String(workerMetricsPort),
        MIN_PAYOUT_SATS: '1',
        LOG_LEVEL: 'trace',
      };
      // The simulator has settings of its own (the service's configuration has none).
      start('dist/apps/alby-sim/src/main.js', { SIM_PORT: String(simPort), SIM_ACCESS_TOKEN: albyToken });
      start('dist/apps/api/src/main.js', env);
      start('dist/apps/worker/src/main.js', env);
      for (const port of [simPort, apiPort, workerPort]) {
        await eventually(
          () => request(`http://127.0.0.1:${port}`, '/health').catch(() => ({ status: 0 })),
          (r) => r.status === 200,
          PROCESS_BOOT_MS,
        );
      }
      await fetch(`http://127.0.0.1:${simPort}/admin/settings`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rateLimitPerSecond: 100, rateLimitBurst: 100 }),
      });
      const created = spawnSync(
        'node',
        ['dist/apps/cli/src/main.js', 'keys', 'create', '--name', 'log-app', '--scopes', 'events:write,payouts:write,payouts:read'],
        {
          env: { ...process.env, ...env },
          encoding: 'utf8',
        },
      );
      const apiKey = created.stdout.trim().split('\n').at(-1)!;
      const api = (path: string, init: RequestInit = {}, key = apiKey) =>
        request(`http://127.0.0.1:${apiPort}`, path, {
          ...init,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-request-id': `req-${path.length}-test`, ...init.headers },
        });

      expect((await api('/v1/events', { method: 'POST', body: JSON.stringify({ events: events('log', 2) }) })).status).toBe(202);
      const wrongKey = `ss_${'x'.repeat(43)}`;
      expect((await api('/v1/summary', {}, wrongKey)).status).toBe(401);
      // An API key in the query string is refused, and never logged (the URL is logged as it comes in).
      for (const path of [`/v1/summary?key=${apiKey}`, `/v1/summary?x=${apiKey}`, `/health?access_token=${wrongKey}`]) {
        const inUrl = await request(`http://127.0.0.1:${apiPort}`, path);
        expect([path, inUrl.status, inUrl.body.error]).toEqual([path, 400, 'invalid_request']);
      }
      await eventually(
        () => api('/v1/summary'),
        (r) => r.body.events?.awaitingAccumulation === 0,
        15_000,
      );
      const run = await api('/v1/payouts/run', { method: 'POST', body: '{}', headers: { 'x-request-id': 'req-payout-run' } });
      await eventually(
        () => api(`/v1/payouts/${run.body.id}`),
        (r) => r.body.status === 'completed',
        20_000,
      );
      expect((await api(`/v1/payouts/${run.body.id}`)).body.totals).toMatchObject({ succeeded: 2 });

      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(output).not.toContain(albyToken);
      expect(output).not.toContain(apiKey);
      expect(output).not.toContain(wrongKey);
      const lines = output.split('\n').filter((l) => l.startsWith('{'));
      const requestLines = lines.map((l) => JSON.parse(l)).filter((l) => l.reqId);
      expect(requestLines).toContainEqual(expect.objectContaining({ reqId: 'req-payout-run', msg: 'incoming request' }));
      expect(requestLines).toContainEqual(expect.objectContaining({ reqId: 'req-payout-run', res: { statusCode: 202 }, msg: 'request completed' }));
      expect(requestLines).toContainEqual(expect.objectContaining({ res: { statusCode: 401 } }));
      expect(run.headers.get('x-request-id')).toBe('req-payout-run');

      // The built processes serve /metrics on their internal ports only.
      for (const [publicPort, metricsPort] of [
        [apiPort, apiMetricsPort],
        [workerPort, workerMetricsPort],
      ]) {
        expect((await request(`http://127.0.0.1:${publicPort}`, '/metrics')).status).toBe(404);
        const scrape = await request(`http://127.0.0.1:${metricsPort}`, '/metrics');
        expect(scrape.status).toBe(200);
        expect(scrape.body).toMatch(/^# TYPE splitstream_owed_msat gauge$/m);
      }
    },
    3 * PROCESS_BOOT_MS,
  );
});
