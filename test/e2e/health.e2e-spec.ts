import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WALLET } from '@splitstream/wallet';
import { ALL_SCOPES, ApiKeysService } from '@splitstream/auth';
import { createApi } from '../../apps/api/src/create-api.js';
import { createWorker } from '../../apps/worker/src/create-worker.js';
import { DisposableRedis, freePort, TcpRelay } from '../support/outages.js';
import { eventually, listen, request } from '../support/http.js';
import { testConfig } from '../support/test-config.js';

const health = (baseUrl: string) => request(baseUrl, '/health');

describe('GET /health', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('answers 200 with PostgreSQL and Redis up, on the api and on the worker', async () => {
    for (const create of [createApi, createWorker]) {
      const app = await create(testConfig());
      apps.push(app);
      const res = await health(await listen(app));
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.details).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
    }
  });

  it("holds no wallet on the api: its /health shows the wallet as a worker last published it, unknown before any did", async () => {
    const config = testConfig({ QUEUE_PREFIX: `sshealth-${randomUUID().slice(0, 8)}` });
    const api = await createApi(config);
    apps.push(api);
    expect(() => api.get(WALLET, { strict: false })).toThrow();
    const apiUrl = await listen(api);
    const before = await health(apiUrl);
    expect(before.status).toBe(200); // no report is not down by itself
    expect(before.body.details.wallet).toEqual({ status: 'up', state: 'unknown', message: 'no worker has reported the wallet recently' });

    const worker = await createWorker(config);
    apps.push(worker);
    const workerUrl = await listen(worker); // started: it probes the wallet at once, then every 10 s
    const seen = await eventually(() => health(apiUrl), (r) => r.body.details?.wallet?.state === 'reported');
    const { state, reportedAt, ...reported } = seen.body.details.wallet;
    expect(state).toBe('reported');
    expect(Date.now() - Date.parse(reportedAt)).toBeLessThan(60_000);
    expect(reported).toEqual((await health(workerUrl)).body.details.wallet); // what the worker itself shows
  });

  it('answers 503 naming Redis while Redis is stopped, and 200 again after it restarts, without a restart of the service', async () => {
    const redis = new DisposableRedis(await freePort());
    await redis.start();
    try {
      const app = await createApi(testConfig({ REDIS_URL: redis.url }));
      apps.push(app);
      const baseUrl = await listen(app);
      expect((await health(baseUrl)).status).toBe(200);

      await redis.stop();
      const down = await eventually(() => health(baseUrl), (r) => r.status === 503);
      expect(down.body.status).toBe('error');
      expect(down.body).toMatchObject({ error: 'service_unavailable', message: 'redis cannot be reached' });
      expect(Object.keys(down.body.down)).toEqual(['redis']);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(down.body.details.postgres.status).toBe('up');

      await redis.start();
      const up = await eventually(() => health(baseUrl), (r) => r.status === 200);
      expect(up.body.details.redis.status).toBe('up');
    } finally {
      // Closing the app's queues needs the Redis it talks to.
      if (!redis.running) await redis.start();
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await redis.stop();
    }
  });

  // An app whose database connection goes through a relay the test can close (an outage as the client sees one).
  const behindRelay = async <A extends INestApplication>(create: (config: ReturnType<typeof testConfig>) => Promise<A>, test: (app: A, baseUrl: string, relay: TcpRelay) => Promise<void>) => {
    const db = new URL(testConfig().DATABASE_URL);
    const relay = new TcpRelay(await freePort(), { host: db.hostname, port: Number(db.port || 5432) });
    await relay.open();
    try {
      db.port = String(relay.port);
      const app = await create(testConfig({ DATABASE_URL: db.toString() }));
      apps.push(app);
      await test(app, await listen(app), relay);
    } finally {
      await relay.close();
    }
  };

  it('answers 503 naming PostgreSQL while the database is unreachable, and 200 again once it is back', async () => {
    await behindRelay(createWorker, async (_, baseUrl, relay) => {
      expect((await health(baseUrl)).status).toBe(200);

      await relay.close();
      const down = await eventually(() => health(baseUrl), (r) => r.status === 503);
      expect(down.body).toMatchObject({ error: 'service_unavailable', message: 'postgres cannot be reached' });
      expect(Object.keys(down.body.down)).toEqual(['postgres']);
      expect(down.body.details.redis.status).toBe('up');

      await relay.open();
      await eventually(() => health(baseUrl), (r) => r.status === 200);
    });
  });

  it('answers the API with 503, Retry-After and the standard error body while PostgreSQL is unreachable, and recovers by itself', async () => {
    await behindRelay(createApi, async (app, baseUrl, relay) => {
      const { key } = await app.get(ApiKeysService).create('outage-app', ALL_SCOPES);
      const summary = () => request(baseUrl, '/v1/summary', { headers: { authorization: `Bearer ${key}` } });
      expect((await summary()).status).toBe(200);

      await relay.close();
      const down = await eventually(summary, (r) => r.status !== 200);
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(down.body).toEqual({ error: 'service_unavailable', message: 'the database cannot be reached; retry shortly' });

      await relay.open();
      await eventually(summary, (r) => r.status === 200, 20_000);
    });
  });
});
