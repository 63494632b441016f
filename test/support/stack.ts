import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ALL_SCOPES, ApiKeysService } from '@splitstream/auth';
import type { AppConfig } from '@splitstream/config';
import { FINAL_PAYOUT_STATUSES } from '@splitstream/ledger';
import { AddressResolution } from '@splitstream/payouts';
import { createApi } from '../../apps/api/src/create-api.js';
import { createWorker } from '../../apps/worker/src/create-worker.js';
import { MetricsServer } from '@splitstream/health';
import { type Sim, startSimulator } from './alby-sim.js';
import { truncateAll } from './database.js';
import { apiClient, eventually, listen } from './http.js';
import { freePort } from './outages.js';
import { testConfig } from './test-config.js';

// Where an app serves Prometheus /metrics (its internal listener, never its public port), or undefined when off.
export const metricsUrlOf = (app: INestApplication): string | undefined => app.get(MetricsServer, { strict: false }).url();

// Lightning-address domains of every stack: one served by the simulator, one where nothing listens.
export const LN_DOMAIN = 'pods.test';
export const DEAD_LN_DOMAIN = 'gone.test';

// The whole service for an e2e test: the simulator, the api and the worker, over real HTTP, PostgreSQL and
// Redis, on an empty database and a queue prefix of its own.
export async function startStack(overrides: Record<string, string> = {}, options: { worker?: boolean } = {}) {
  const sim = await startSimulator();
  const config: AppConfig = testConfig({
    QUEUE_PREFIX: `sstest-${randomUUID().slice(0, 8)}`,
    ALBY_API_URL: sim.url,
    ALBY_ACCESS_TOKEN: sim.token,
    PAYOUT_INTERVAL_SECONDS: '3600',
    // Tests resolve addresses when they say so (resolveAddresses), unless they set an interval of their own.
    LNADDRESS_RESOLVE_INTERVAL_SECONDS: '3600',
    MIN_PAYOUT_SATS: '1',
    KEYSEND_BATCH_SIZE: '2',
    ALBY_MAX_REQUESTS_PER_SECOND: '50',
    LNADDRESS_HOST_MAP: `${LN_DOMAIN}=${sim.url},${DEAD_LN_DOMAIN}=http://127.0.0.1:9`,
    OUTBOUND_ALLOW_PRIVATE: 'true', // the simulator and the dead domain are on 127.0.0.1
    LNADDRESS_TIMEOUT_MS: '2000',
    METRICS_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    // Tests start many runs a minute; limits.e2e-spec.ts tests the budget with its own.
    PAYOUT_RUN_RATE_LIMIT_PER_MINUTE: '10000',
    EVENT_RETRY_RATE_LIMIT_PER_MINUTE: '10000',
    ...overrides,
  });
  await truncateAll(config.DATABASE_URL);
  const apps: INestApplication[] = [];
  const api = await createApi(config);
  apps.push(api);
  let baseUrl: string;
  let worker: INestApplication | undefined;
  let workerUrl: string | undefined;
  try {
    baseUrl = await listen(api);
    if (options.worker !== false) {
      worker = await createWorker(config);
      apps.push(worker);
      workerUrl = await listen(worker);
    }
  } catch (error) {
    // A stack that could not start closes what it opened, so the test fails instead of jest hanging on it.
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
    await sim.close();
    throw error;
  }
  const { key } = await api.get(ApiKeysService).create('test-app', ALL_SCOPES);
  const http = apiClient(baseUrl, key);
  return {
    sim,
    config,
    api,
    worker,
    workerUrl,
    baseUrl,
    // Prometheus /metrics of the api and the worker, on their internal listeners (METRICS_PORT, WORKER_METRICS_PORT).
    metricsUrl: `${metricsUrlOf(api)}/metrics`,
    workerMetricsUrl: worker && `${metricsUrlOf(worker)}/metrics`,
    key,
    http,
    async postEvents(events: unknown[]) {
      const res = await http.post('/v1/events', { events });
      // A batch is judged per event: a test's events that were not all stored (or stored before) fail it here.
      if (res.status !== 202 || res.body.rejected || res.body.conflicts) throw new Error(`POST /v1/events: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    // Until every accepted event is applied to the ledger.
    async accumulated() {
      return eventually(
        () => http.get('/v1/summary'),
        (r) => r.status === 200 && r.body.events.awaitingAccumulation === 0,
        15_000,
      );
    },
    async runPayout() {
      const started = await http.post('/v1/payouts/run', {});
      if (started.status !== 202) throw new Error(`POST /v1/payouts/run: ${started.status}`);
      const done = await eventually(
        () => http.get(`/v1/payouts/${started.body.id}`),
        (r) => r.status === 200 && FINAL_PAYOUT_STATUSES.includes(r.body.status),
        20_000,
      );
      return done.body;
    },
    // One whole resolution pass of the worker's (what its job does), once any pass already running has ended:
    // payout runs pay only addresses with a fresh route.
    async resolveAddresses() {
      const resolution = worker!.get(AddressResolution, { strict: false });
      return eventually(
        () => resolution.resolveDue(),
        (report) => report.ran,
        20_000,
      );
    },
    async invariant() {
      const res = await http.get('/v1/ledger/check');
      return res.body;
    },
    // One recipient by identity: the list filtered by address (and custom record), as {status, body}.
    async recipient(address: string, customKey?: string, customValue?: string) {
      const res = await http.get(`/v1/recipients?${new URLSearchParams({ address, ...(customKey && { customKey }), ...(customValue && { customValue }) })}`);
      if (res.status !== 200) return res;
      const [found] = res.body.recipients;
      return found ? { ...res, body: found } : { ...res, status: 404, body: { error: 'not_found' } };
    },
    async close() {
      for (const app of apps.reverse()) await app.close();
      await sim.close();
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;
export type { Sim };
