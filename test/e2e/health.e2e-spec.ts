import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WALLET } from '@splitstream/wallet';
import { ALL_SCOPES, ApiKeysService, Scope } from '@splitstream/auth';
import { createApi } from '../../apps/api/src/create-api.js';
import { createWorker } from '../../apps/worker/src/create-worker.js';
import { DisposableRedis, freePort, TcpRelay } from '../support/outages.js';
import { eventually, listen, request } from '../support/http.js';
import { testConfig } from '../support/test-config.js';

// /health as anyone sees it, and with a key (details for the admin scope only).
const health = (baseUrl: string, key?: string) => request(baseUrl, '/health', key ? { headers: { authorization: `Bearer ${key}` } } : {});
const keyWith = async (app: INestApplication, scopes: Scope[]) =>
  (await app.get(ApiKeysService, { strict: false }).create(`health-${randomUUID().slice(0, 8)}`, scopes)).key;

describe('GET /health', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('answers 200 with PostgreSQL and Redis up, on the api and on the worker: only the status publicly, the report to an admin key', async () => {
    for (const create of [createApi, createWorker]) {
      const app = await create(testConfig());
      apps.push(app);
      const baseUrl = await listen(app);
      const admin = await keyWith(app, [Scope.Admin]);
      const reader = await keyWith(
        app,
        ALL_SCOPES.filter((scope) => scope !== Scope.Admin),
      );
      // Anyone, a bad key, a revoked admin key, a key without the admin scope: up or down, nothing else.
      const revoked = await app.get(ApiKeysService, { strict: false }).create('health-revoked', [Scope.Admin]);
      await app.get(ApiKeysService, { strict: false }).revoke(BigInt(revoked.id));
      for (const key of [undefined, `ss_${'x'.repeat(43)}`, 'not-a-key', revoked.key, reader]) {
        const res = await health(baseUrl, key);
        expect([create.name, key, res.status, res.body]).toEqual([create.name, key, 200, { status: 'ok' }]);
      }
      const res = await health(baseUrl, admin);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.details).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' }, wallet: { status: 'up' } });
    }
  });

  it('holds no wallet on the api: its /health shows the wallet as a worker last published it, unknown before any did', async () => {
    const config = testConfig({ QUEUE_PREFIX: `sshealth-${randomUUID().slice(0, 8)}` });
    const api = await createApi(config);
    apps.push(api);
    expect(() => api.get(WALLET, { strict: false })).toThrow();
    const apiUrl = await listen(api);
    const admin = await keyWith(api, [Scope.Admin]);
    const before = await health(apiUrl, admin);
    expect(before.status).toBe(200); // no report is not down by itself
    expect(before.body.details.wallet).toEqual({ status: 'up', state: 'unknown', message: 'no worker has reported the wallet recently' });

    const worker = await createWorker(config);
    apps.push(worker);
    const workerUrl = await listen(worker); // started: it probes the wallet at once, then every 10 s
    const seen = await eventually(
      () => health(apiUrl, admin),
      (r) => r.body.details?.wallet?.state === 'reported',
    );
    const { state, reportedAt, ...reported } = seen.body.details.wallet;
    expect(state).toBe('reported');
    expect(Date.now() - Date.parse(reportedAt)).toBeLessThan(60_000);
    expect(reported).toEqual((await health(workerUrl, admin)).body.details.wallet); // what the worker itself shows
    // The wallet (its balance, where the rail tells it: see nwc.e2e) is never shown without the admin key.
    for (const url of [apiUrl, workerUrl]) {
      const open = await health(url);
      expect(open.body).toEqual({ status: 'ok' });
      expect(JSON.stringify(open.body)).not.toContain('balance');
    }
  });

  it('answers 503 naming Redis while Redis is stopped, and 200 again after it restarts, without a restart of the service', async () => {
    const redis = new DisposableRedis(await freePort());
    await redis.start();
    try {
      const app = await createApi(testConfig({ REDIS_URL: redis.url }));
      apps.push(app);
      const baseUrl = await listen(app);
      const admin = await keyWith(app, [Scope.Admin]);
      expect((await health(baseUrl)).status).toBe(200);

      await redis.stop();
      const publicDown = await eventually(
        () => health(baseUrl),
        (r) => r.status === 503,
      );
      expect(publicDown.body).toEqual({ status: 'error', error: 'service_unavailable', message: 'the service is not healthy; details need an admin key' });
      expect(publicDown.headers.get('retry-after')).toBe('5');
      const down = await health(baseUrl, admin);
      expect(down.status).toBe(503);
      expect(down.body.status).toBe('error');
      expect(down.body).toMatchObject({ error: 'service_unavailable', message: 'redis cannot be reached' });
      expect(Object.keys(down.body.down)).toEqual(['redis']);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(down.body.details.postgres.status).toBe('up');

      await redis.start();
      const up = await eventually(
        () => health(baseUrl, admin),
        (r) => r.status === 200,
      );
      expect(up.body.details.redis.status).toBe('up');
      expect((await health(baseUrl)).body).toEqual({ status: 'ok' });
    } finally {
      // Closing the app's queues needs the Redis it talks to.
      if (!redis.running) await redis.start();
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await redis.stop();
    }
  });

  // An app whose database connection goes through a relay the test can close (an outage as the client sees one).
  const behindRelay = async <A extends INestApplication>(
    create: (config: ReturnType<typeof testConfig>) => Promise<A>,
    test: (app: A, baseUrl: string, relay: TcpRelay) => Promise<void>,
  ) => {
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

  // Admin keys are checked in PostgreSQL: while it cannot be reached, an admin gets the public answer too.
  it('answers 503 while the database is unreachable (no details: no key can be checked), and 200 again once it is back', async () => {
    await behindRelay(createWorker, async (app, baseUrl, relay) => {
      const admin = await keyWith(app, [Scope.Admin]);
      expect((await health(baseUrl)).status).toBe(200);
      expect((await health(baseUrl, admin)).body.details.postgres.status).toBe('up');

      await relay.close();
      const down = await eventually(
        () => health(baseUrl),
        (r) => r.status === 503,
      );
      expect(down.body).toEqual({ status: 'error', error: 'service_unavailable', message: 'the service is not healthy; details need an admin key' });
      const adminDown = await health(baseUrl, admin);
      expect([adminDown.status, adminDown.body.status, adminDown.body.details]).toEqual([503, 'error', undefined]);

      await relay.open();
      await eventually(
        () => health(baseUrl),
        (r) => r.status === 200,
      );
      const back = await eventually(
        () => health(baseUrl, admin),
        (r) => r.body.details !== undefined,
      );
      expect(back.body.details).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
    });
  });

  it('answers 503 without details to a key lacking the admin scope, and naming what fails to an admin key', async () => {
    const redis = new DisposableRedis(await freePort());
    await redis.start();
    try {
      const app = await createApi(testConfig({ REDIS_URL: redis.url }));
      apps.push(app);
      const baseUrl = await listen(app);
      const admin = await keyWith(app, [Scope.Admin]);
      const reader = await keyWith(app, [Scope.PayoutsRead]);
      await redis.stop();
      const down = await eventually(
        () => health(baseUrl, admin),
        (r) => r.status === 503,
      );
      expect(down.body).toMatchObject({ status: 'error', error: 'service_unavailable', message: 'redis cannot be reached' });
      expect(down.body.details.redis.status).toBe('down');
      const notAdmin = await health(baseUrl, reader);
      expect([notAdmin.status, notAdmin.body]).toEqual([
        503,
        { status: 'error', error: 'service_unavailable', message: 'the service is not healthy; details need an admin key' },
      ]);
    } finally {
      if (!redis.running) await redis.start();
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await redis.stop();
    }
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
