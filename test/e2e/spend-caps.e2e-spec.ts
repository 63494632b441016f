import { spawnSync } from 'node:child_process';
import { jest } from '@jest/globals';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { PrismaService } from '@splitstream/persistence';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { request } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const host = pubkey(0xca9);

// 60 s at `sats` per minute: `sats` * 1000 msat.
const event = (id: string, sats: number, listenerId?: string) => ({
  id,
  feedGuid: 'capped-feed',
  itemGuid: 'capped-item',
  position: 0,
  seconds: 60,
  satsPerMinute: sats,
  ...(listenerId && { listenerId }),
  value: { type: 'lightning', method: 'keysend', recipients: [{ type: 'node', address: host, split: 1 }] },
});

// Spend caps per app (day, month) and per listener (day): an event over a cap is rejected with a code naming the
// cap and changes nothing, while the request's events that fit are stored (no 429, no Retry-After: that is rate
// limiting only). Caps are set with the CLI.
describe('spend caps (e2e)', () => {
  let stack: Stack;
  const cli = (...args: string[]) =>
    spawnSync('node', ['dist/apps/cli/src/main.js', ...args], { env: { ...process.env, DATABASE_URL: stack.config.DATABASE_URL }, encoding: 'utf8' });
  const appKey = async (app: string) => {
    const { key } = await stack.api.get(ApiKeysService).create(app, [Scope.EventsWrite, Scope.PayoutsRead]);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    return {
      post: (...events: object[]) => request(stack.baseUrl, '/v1/events', { method: 'POST', headers, body: JSON.stringify({ events }) }),
      get: (path: string) => request(stack.baseUrl, path, { headers }),
    };
  };
  const setCaps = (app: string, ...options: string[]) => {
    const result = cli('apps', 'caps', app, ...options);
    expect([result.status, result.stderr]).toEqual([0, '']);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
  });
  afterAll(() => stack?.close());

  it("rejects the events over the app's daily cap with app_day_cap_exceeded and stores the rest of the batch", async () => {
    const app = await appKey('daily-app');
    // The month has the service's default cap: the app set none.
    const monthMsat = String(BigInt(stack.config.DEFAULT_APP_MONTH_CAP_SATS) * 1000n);
    expect(setCaps('daily-app', '--day-msat', '100000')).toMatchObject({ app: 'daily-app', caps: { dayMsat: '100000', monthMsat } });
    expect((await app.post(event('d-1', 60))).status).toBe(202);
    // In request order: 70,000 fits, 120,000 would not, 90,000 fits.
    const batch = await app.post(event('d-2', 10), event('d-3', 50), event('d-4', 20));
    expect(batch.status).toBe(202);
    expect(batch.headers.get('retry-after')).toBeNull();
    expect(batch.body).toEqual({
      accepted: 2,
      duplicates: 0,
      conflicts: 0,
      rejected: 1,
      events: [
        { index: 0, id: 'd-2', status: 'accepted' },
        {
          index: 1,
          id: 'd-3',
          status: 'rejected',
          code: 'app_day_cap_exceeded',
          issues: [{ path: 'events[1]', message: "50000 msat would take the app's daily cap of 100000 msat to 120000 msat (70000 msat used)" }],
        },
        { index: 2, id: 'd-4', status: 'accepted' },
      ],
    });
    // The rejected event was neither stored nor charged.
    expect((await app.get('/v1/events/d-3')).status).toBe(404);
    expect((await app.get('/v1/summary')).body.events.accepted).toBe(3);
    expect((await app.get('/v1/apps/me')).body).toMatchObject({
      app: 'daily-app',
      caps: { dayMsat: '100000' },
      accepted: { todayMsat: '90000', thisMonthMsat: '90000' },
    });
    // A request of events that are all over the cap stores nothing: 400, each event named with its code, no retry hint.
    const refused = await app.post(event('d-5', 20));
    expect(refused).toMatchObject({
      status: 400,
      body: { error: 'events_rejected', issues: [{ index: 0, code: 'app_day_cap_exceeded', path: 'events[0]' }] },
    });
    expect(refused.headers.get('retry-after')).toBeNull();
    // A duplicate is free; what still fits is accepted.
    expect((await app.post(event('d-1', 60))).body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await app.post(event('d-6', 10))).body).toMatchObject({ accepted: 1 });
    expect((await app.get('/v1/apps/me')).body.accepted.todayMsat).toBe('100000');
  });

  it("rejects an event over the app's monthly cap with app_month_cap_exceeded", async () => {
    const app = await appKey('monthly-app');
    setCaps('monthly-app', '--month-msat', '10000');
    expect((await app.post(event('m-1', 12))).body).toMatchObject({ error: 'events_rejected', issues: [{ code: 'app_month_cap_exceeded' }] });
    expect((await app.post(event('m-2', 10))).status).toBe(202);
    // Removing the cap (back to the service's default) lets the next event through.
    expect(setCaps('monthly-app', '--month-msat', 'none').caps.monthMsat).toBe(String(BigInt(stack.config.DEFAULT_APP_MONTH_CAP_SATS) * 1000n));
    expect((await app.post(event('m-3', 12))).status).toBe(202);
  });

  it("rejects an event over one listener's daily cap with listener_day_cap_exceeded; other listeners' events in the batch are stored", async () => {
    const app = await appKey('listener-app');
    setCaps('listener-app', '--listener-day-msat', '50000');
    expect((await app.post(event('l-1', 30, 'alice'))).status).toBe(202);
    const batch = await app.post(event('l-2', 30, 'alice'), event('l-3', 30, 'bob'));
    expect(batch.status).toBe(202);
    expect(batch.headers.get('retry-after')).toBeNull();
    expect(batch.body).toMatchObject({
      accepted: 1,
      rejected: 1,
      events: [
        { index: 0, id: 'l-2', status: 'rejected', code: 'listener_day_cap_exceeded' },
        { index: 1, id: 'l-3', status: 'accepted' },
      ],
    });
    expect(batch.body.events[0].issues[0].message).toBe(`30000 msat would take listener "alice"'s daily cap of 50000 msat to 60000 msat (30000 msat used)`);
    // No listenerId would escape the listener cap: that event is rejected, naming it; the others are stored.
    const missing = await app.post(event('l-4', 10), event('l-5', 10, 'bob'));
    // (limits e2e checks the rejection's issues in full.)
    expect(missing).toMatchObject({
      status: 202,
      body: {
        accepted: 1,
        rejected: 1,
        events: [
          { id: 'l-4', code: 'listener_id_required' },
          { id: 'l-5', status: 'accepted' },
        ],
      },
    });
    expect((await app.get('/v1/events/l-4')).status).toBe(404);
    expect((await app.get('/v1/summary')).body.events.accepted).toBe(3);
  });

  it('lets exactly as much through as the cap allows when requests race', async () => {
    const app = await appKey('racing-app');
    setCaps('racing-app', '--day-msat', '100000');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => app.post(event(`r-${i}`, 20))));
    expect(results.map((r) => r.status).sort()).toEqual([202, 202, 202, 202, 202, 400, 400, 400, 400, 400]);
    expect(results.filter((r) => r.status === 400).every((r) => r.body.issues[0].code === 'app_day_cap_exceeded')).toBe(true);
    expect((await app.get('/v1/apps/me')).body.accepted.todayMsat).toBe('100000');
  });

  it('lets exactly as much through as the cap allows when batches race and judge their events one at a time', async () => {
    const app = await appKey('racing-batches');
    setCaps('racing-batches', '--day-msat', '100000');
    // Four batches of four 10,000 msat events: 160,000 msat against a cap of 100,000.
    const batches = await Promise.all(Array.from({ length: 4 }, (_, b) => app.post(...Array.from({ length: 4 }, (_, i) => event(`rb-${b}-${i}`, 10)))));
    // A batch whose every event was rejected answers 400 (events_rejected) with one issue per event.
    const total = (key: 'accepted' | 'rejected') =>
      batches.reduce((sum, r) => sum + (r.status === 202 ? r.body[key] : key === 'rejected' ? r.body.issues.length : 0), 0);
    expect([total('accepted'), total('rejected')]).toEqual([10, 6]);
    for (const r of batches) {
      const rejected = r.status === 202 ? r.body.events.filter((e: { status: string }) => e.status === 'rejected') : r.body.issues;
      expect(rejected.every((e: { code: string }) => e.code === 'app_day_cap_exceeded')).toBe(true);
    }
    expect((await app.get('/v1/apps/me')).body.accepted.todayMsat).toBe('100000');
    expect((await app.get('/v1/summary')).body.events.accepted).toBe(10);
  });

  it('answers an app at its cap in a few statements, not one per event, and still tells its resent events as duplicates', async () => {
    const app = await appKey('full-app');
    setCaps('full-app', '--day-msat', '100000');
    expect((await app.post(event('f-0', 100))).body).toMatchObject({ accepted: 1 });
    // The resent event comes last, after the cap is known to be full: still a duplicate, not a rejection.
    const batch = [...Array.from({ length: 499 }, (_, i) => event(`f-${i + 1}`, 1 + (i % 3))), event('f-0', 100)];
    const statements = jest.spyOn(stack.api.get(PrismaService), '$queryRaw');
    try {
      const res = await app.post(...batch);
      expect(res).toMatchObject({ status: 202, body: { accepted: 0, duplicates: 1, rejected: 499 } });
      expect(res.body.events[499]).toEqual({ index: 499, id: 'f-0', status: 'duplicate' });
      expect(res.body.events.slice(0, 499).every((e: { code?: string }) => e.code === 'app_day_cap_exceeded')).toBe(true);
      expect(res.body.events[1].issues[0].message).toBe("2000 msat would take the app's daily cap of 100000 msat to 102000 msat (100000 msat used)");
      // The ids stored before, the batch, and the events one by one in one call.
      expect(statements.mock.calls.length).toBeLessThanOrEqual(4);
    } finally {
      statements.mockRestore();
    }
    expect((await app.get('/v1/apps/me')).body.accepted.todayMsat).toBe('100000');
  });

  // The fallback that stores the events one by one runs server side (splitstream_store_fitting): one round trip
  // however many events fit, whether a day cap or one listener's cap is what the batch broke.
  it('stores the fitting events of a batch that broke a cap in a few statements, not one per event', async () => {
    const countStatements = async (post: () => Promise<{ status: number; body: any }>) => {
      const statements = jest.spyOn(stack.api.get(PrismaService), '$queryRaw');
      try {
        return { res: await post(), statements: statements.mock.calls.length };
      } finally {
        statements.mockRestore();
      }
    };
    const nearlyFull = await appKey('nearly-full-app');
    setCaps('nearly-full-app', '--day-msat', '100000');
    expect((await nearlyFull.post(event('n-0', 99))).body).toMatchObject({ accepted: 1 });
    // 1000 msat of room: the first event (2000 msat) breaks the cap, each of the 499 others (1 msat) fits.
    const tiny = Array.from({ length: 499 }, (_, i) => ({ ...event(`n-${i + 1}`, 1), seconds: 0.06 }));
    const dayCase = await countStatements(() => nearlyFull.post(event('n-over', 2), ...tiny));
    expect(dayCase.res.body).toMatchObject({ accepted: 499, rejected: 1 });
    expect(dayCase.res.body.events[0].code).toBe('app_day_cap_exceeded');
    expect(dayCase.statements).toBeLessThanOrEqual(4);
    expect((await nearlyFull.get('/v1/apps/me')).body.accepted.todayMsat).toBe('99499');

    const listeners = await appKey('one-full-listener-app');
    setCaps('one-full-listener-app', '--listener-day-msat', '1000');
    expect((await listeners.post(event('l-0', 1, 'full'))).status).toBe(202);
    const others = Array.from({ length: 499 }, (_, i) => event(`l-${i + 1}`, 1, `listener-${i}`));
    const listenerCase = await countStatements(() => listeners.post(event('l-over', 1, 'full'), ...others));
    expect(listenerCase.res.body).toMatchObject({ accepted: 499, rejected: 1 });
    expect(listenerCase.res.body.events[0].code).toBe('listener_day_cap_exceeded');
    expect(listenerCase.statements).toBeLessThanOrEqual(4);
  });

  // Batches that race, share ids and each break the cap (so each falls back to splitstream_store_fitting) never
  // overshoot it, and every answer agrees with what was stored: an id is accepted once at most, never a
  // duplicate or conflict unless stored.
  it('keeps answers, stored events and the counter consistent when batches with shared ids race at the cap', async () => {
    const app = await appKey('shared-ids-app');
    setCaps('shared-ids-app', '--day-msat', '100000');
    const ids = Array.from({ length: 8 }, (_, i) => `r-${i}`);
    const orders = [ids, [...ids].reverse(), [...ids.slice(4), ...ids.slice(0, 4)], ['r-3', 'r-1', 'r-6', 'r-0', 'r-7', 'r-2', 'r-5', 'r-4']];
    const answers = await Promise.all(orders.map((order) => app.post(...order.map((id) => event(id, 20)), event(`own-${order[0]}`, 20))));
    const prisma = stack.api.get(PrismaService);
    const stored = await prisma.$queryRaw<{ event_id: string; amount_msat: bigint }[]>`
      SELECT event_id, amount_msat FROM listening_event WHERE app_id = 'shared-ids-app'`;
    const [spent] = await prisma.$queryRaw<{ msat: bigint }[]>`SELECT msat FROM app_spend WHERE app_id = 'shared-ids-app' AND period LIKE 'day:%'`;
    expect(spent!.msat).toBe(stored.reduce((sum, r) => sum + r.amount_msat, 0n));
    expect(spent!.msat).toBe(100_000n); // 20 000 msat events fill it exactly
    const storedIds = new Set(stored.map((r) => r.event_id));
    const statuses = new Map<string, string[]>();
    for (const res of answers.filter((r) => r.status === 202)) {
      for (const e of res.body.events as { id: string; status: string }[]) statuses.set(e.id, [...(statuses.get(e.id) ?? []), e.status]);
    }
    for (const [id, list] of statuses) {
      expect([id, list.filter((s) => s === 'accepted').length]).toEqual([id, storedIds.has(id) ? 1 : 0]);
      if (!storedIds.has(id)) expect([id, list.filter((s) => s !== 'rejected')]).toEqual([id, []]);
      expect(list).not.toContain('conflict');
    }
  });

  it('counts what the app accepted before its caps were set', async () => {
    const app = await appKey('late-app');
    expect((await app.post(event('x-1', 80, 'carol'))).status).toBe(202);
    setCaps('late-app', '--day-msat', '100000', '--listener-day-msat', '90000');
    const codeOf = async (...events: object[]) => (await app.post(...events)).body.events.map((e: { code?: string }) => e.code ?? 'stored');
    expect(await codeOf(event('x-2', 30, 'dave'), event('x-3', 15, 'carol'), event('x-4', 25, 'dave'), event('x-6', 5, 'dave'))).toEqual([
      'app_day_cap_exceeded',
      'listener_day_cap_exceeded',
      'app_day_cap_exceeded',
      'stored',
    ]);
    expect((await app.post(event('x-5', 10, 'carol'))).status).toBe(202);
  });

  it("shows any key its app, scopes and caps at GET /v1/apps/me (the service's defaults where it set none); the CLI refuses a bad cap", async () => {
    const { key } = await stack.api.get(ApiKeysService).create('uncapped-app', [Scope.PayoutsWrite]);
    const me = await request(stack.baseUrl, '/v1/apps/me', { headers: { authorization: `Bearer ${key}` } });
    const msat = (sats: number) => String(BigInt(sats) * 1000n);
    expect(me).toMatchObject({
      status: 200,
      body: {
        app: 'uncapped-app',
        scopes: ['payouts:write'],
        caps: { dayMsat: msat(stack.config.DEFAULT_APP_DAY_CAP_SATS), monthMsat: msat(stack.config.DEFAULT_APP_MONTH_CAP_SATS), listenerDayMsat: null },
      },
    });
    expect((await request(stack.baseUrl, '/v1/apps/me')).status).toBe(401);
    const bad = cli('apps', 'caps', 'uncapped-app', '--day-msat', '1.5');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--day-msat must be a whole number of msat or "none"/);
    expect(cli('apps', 'caps', 'uncapped-app').status).toBe(2);
  });
});
