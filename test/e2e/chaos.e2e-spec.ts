import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { ALL_SCOPES, ApiKeysService } from '@splitstream/auth';
import { createApi } from '../../apps/api/src/create-api.js';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query, truncateAll } from '../support/database.js';
import { eventually, listen, request } from '../support/http.js';
import { DisposableRedis, freePort, TcpRelay } from '../support/outages.js';
import { testConfig } from '../support/test-config.js';
import { killWorkerProcess, startWorkerProcess } from '../support/worker-process.js';

const LOAD_MS = 12_000;
const recipients = [0xe1, 0xe2, 0xe3, 0xe4].map((n, i) => ({ name: `E${i}`, type: 'node', address: pubkey(n), split: i + 1 }));

// Load while everything fails once: Redis killed and restarted, PostgreSQL cut off and back, the worker killed
// with SIGKILL and restarted. Every event answered 202 is applied exactly once, and the books balance.
describe('faults under load (e2e)', () => {
  const redis = new DisposableRedis(0);
  let relay: TcpRelay;
  let api: INestApplication;
  let worker: ChildProcess | undefined;
  let config: ReturnType<typeof testConfig>;

  const startWorker = async () => {
    worker = await startWorkerProcess(config, { logLevel: 'fatal', onOutput: () => undefined });
  };
  const killWorker = () => killWorkerProcess(worker);

  beforeAll(async () => {
    redis.port = await freePort();
    await redis.start();
    const db = new URL(testConfig().DATABASE_URL);
    relay = new TcpRelay(await freePort(), { host: db.hostname, port: Number(db.port || 5432) });
    await relay.open();
    db.port = String(relay.port);
    config = testConfig({
      DATABASE_URL: db.toString(),
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `sschaos-${randomUUID().slice(0, 8)}`,
      PAYOUT_INTERVAL_SECONDS: '3600',
      // The load here is about faults, not the per-key rate limit (auth.e2e-spec.ts tests that).
      EVENTS_RATE_LIMIT_PER_MINUTE: '1000000',
    });
    await truncateAll(config.DATABASE_URL);
  });
  afterAll(async () => {
    await killWorker();
    if (!redis.running) await redis.start();
    await api?.close();
    await relay.close();
    await redis.stop();
  });

  it('applies every event answered 202 exactly once, whatever failed in between', async () => {
    api = await createApi(config);
    const baseUrl = await listen(api);
    const { key } = await api.get(ApiKeysService).create('chaos-app', ALL_SCOPES);
    await startWorker();

    const accepted = new Set<string>();
    const answers = new Set<number>();
    let sent = 0;
    let batch = 0;
    const deadline = Date.now() + LOAD_MS;
    const client = async () => {
      while (Date.now() < deadline) {
        const ids = Array.from({ length: 25 }, (_, i) => `chaos-${batch}-${i}`);
        batch++;
        const events = ids.map((id, i) => ({
          id,
          feedGuid: 'feed-chaos',
          itemGuid: `item-${i % 3}`,
          position: i,
          seconds: 60,
          satsPerMinute: 7,
          value: { type: 'lightning', method: 'keysend', recipients },
        }));
        sent += ids.length;
        const res = await request(baseUrl, '/v1/events', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
        }).catch(() => ({ status: 0, body: undefined }));
        answers.add(res.status);
        // Each event of a 202 has its own answer: the ones stored (now or before) count.
        if (res.status === 202)
          for (const r of res.body.events)
            if (r.status === 'accepted' || r.status === 'duplicate') accepted.add(r.id);
            else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const faults = (async () => {
      const at = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      await at(1_500);
      await redis.stop();
      await at(2_000);
      await redis.start();
      await at(1_000);
      await killWorker();
      await at(1_000);
      await relay.close();
      await at(2_000);
      await relay.open();
      await startWorker();
    })();
    await Promise.all([client(), client(), client(), faults]);

    expect(accepted.size).toBeGreaterThan(0);
    // Never a bare 500: while PostgreSQL is away the api answers 503 (or the connection fails).
    expect([...answers].filter((s) => s !== 202 && s !== 503 && s !== 0)).toEqual([]);
    expect(accepted.size).toBeLessThanOrEqual(sent);
    // The sweep (every 15 s) picks up what was stored while Redis or the worker was away.
    await eventually(
      () => query<{ n: number }>(config.DATABASE_URL, 'SELECT count(*)::int AS n FROM listening_event WHERE applied_at IS NULL'),
      (rows) => rows[0]!.n === 0,
      60_000,
    );
    const stored = await query<{ event_id: string; allocated: string; amount_msat: string }>(
      config.DATABASE_URL,
      `SELECT e.event_id, COALESCE(SUM(a.amount_msat), 0)::text AS allocated, e.amount_msat::text AS amount_msat
       FROM listening_event e LEFT JOIN allocation a ON a.event_id = e.id GROUP BY e.id`,
    );
    // Every event answered 202 is stored (one whose answer was lost in the PostgreSQL outage may be stored
    // too: an app resends it with the same id, a no-op).
    const storedIds = new Set(stored.map((e) => e.event_id));
    expect([...accepted].filter((id) => !storedIds.has(id))).toEqual([]);
    for (const e of stored) expect(e.allocated).toBe(e.amount_msat); // applied once: its split, no more, no less
    const check = await request(baseUrl, '/v1/ledger/check', { headers: { authorization: `Bearer ${key}` } });
    expect(check.body).toMatchObject({ ok: true, problems: [] });
  }, 120_000);
});
