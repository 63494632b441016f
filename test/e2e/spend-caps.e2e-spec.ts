import { spawnSync } from 'node:child_process';
import { ApiKeysService, Scope } from '@splitstream/auth';
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

// Spend caps per app (day, month) and per listener (day): an event over a cap is refused with 429 and a code
// naming the cap, and changes nothing. Caps are set with the CLI.
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

  it("refuses an event over the app's daily cap with 429 app_day_cap_exceeded, storing and charging nothing", async () => {
    const app = await appKey('daily-app');
    // The month has the service's default cap: the app set none.
    const monthMsat = String(BigInt(stack.config.DEFAULT_APP_MONTH_CAP_SATS) * 1000n);
    expect(setCaps('daily-app', '--day-msat', '100000')).toMatchObject({ app: 'daily-app', caps: { dayMsat: '100000', monthMsat } });
    expect((await app.post(event('d-1', 60))).status).toBe(202);
    const refused = await app.post(event('d-2', 10), event('d-3', 50));
    expect(refused).toMatchObject({ status: 429, body: { error: 'app_day_cap_exceeded' } });
    expect(refused.body.message).toMatch(/60000 msat would take the app's daily cap of 100000 msat to 120000 msat/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(86_400);
    // Nothing of the refused request was stored (not even the event under the cap), and it was not charged.
    expect((await app.get('/v1/events/d-2')).status).toBe(404);
    expect((await app.get('/v1/summary')).body.events.accepted).toBe(1);
    expect((await app.get('/v1/apps/me')).body).toMatchObject({
      app: 'daily-app',
      caps: { dayMsat: '100000' },
      accepted: { todayMsat: '60000', thisMonthMsat: '60000' },
    });
    // A duplicate is free; what still fits is accepted.
    expect((await app.post(event('d-1', 60))).body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await app.post(event('d-4', 40))).status).toBe(202);
    expect((await app.post(event('d-5', 1))).body.error).toBe('app_day_cap_exceeded');
  });

  it("refuses an event over the app's monthly cap with app_month_cap_exceeded", async () => {
    const app = await appKey('monthly-app');
    setCaps('monthly-app', '--month-msat', '10000');
    expect((await app.post(event('m-1', 12))).body).toMatchObject({ error: 'app_month_cap_exceeded' });
    expect((await app.post(event('m-2', 10))).status).toBe(202);
    // Removing the cap (back to the service's default) lets the next event through.
    expect(setCaps('monthly-app', '--month-msat', 'none').caps.monthMsat).toBe(String(BigInt(stack.config.DEFAULT_APP_MONTH_CAP_SATS) * 1000n));
    expect((await app.post(event('m-3', 12))).status).toBe(202);
  });

  it("refuses an event over one listener's daily cap with listener_day_cap_exceeded; other listeners go on", async () => {
    const app = await appKey('listener-app');
    setCaps('listener-app', '--listener-day-msat', '50000');
    expect((await app.post(event('l-1', 30, 'alice'))).status).toBe(202);
    const refused = await app.post(event('l-2', 30, 'alice'));
    expect(refused).toMatchObject({ status: 429, body: { error: 'listener_day_cap_exceeded' } });
    expect(refused.body.message).toContain('listener "alice"');
    expect((await app.post(event('l-3', 30, 'bob'))).status).toBe(202);
    // No listenerId would escape the listener cap: refused, naming the event.
    expect(await app.post(event('l-4', 30))).toMatchObject({
      status: 400,
      body: { error: 'listener_id_required', issues: [{ index: 0, path: 'events[0].listenerId' }] },
    });
    expect((await app.get('/v1/summary')).body.events.accepted).toBe(2);
  });

  it('lets exactly as much through as the cap allows when requests race', async () => {
    const app = await appKey('racing-app');
    setCaps('racing-app', '--day-msat', '100000');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => app.post(event(`r-${i}`, 20))));
    expect(results.map((r) => r.status).sort()).toEqual([202, 202, 202, 202, 202, 429, 429, 429, 429, 429]);
    expect((await app.get('/v1/apps/me')).body.accepted.todayMsat).toBe('100000');
  });

  it('counts what the app accepted before its caps were set', async () => {
    const app = await appKey('late-app');
    expect((await app.post(event('x-1', 80, 'carol'))).status).toBe(202);
    setCaps('late-app', '--day-msat', '100000', '--listener-day-msat', '90000');
    expect((await app.post(event('x-2', 30, 'dave'))).body.error).toBe('app_day_cap_exceeded');
    expect((await app.post(event('x-3', 15, 'carol'))).body.error).toBe('listener_day_cap_exceeded');
    expect((await app.post(event('x-4', 25, 'dave'))).body.error).toBe('app_day_cap_exceeded');
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
