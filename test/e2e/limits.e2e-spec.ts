import { ApiKeysService, Scope } from '@splitstream/auth';
import { FINAL_PAYOUT_STATUSES } from '@splitstream/ledger';
import { listeningEventSchema } from '@splitstream/ingestion';
import { TenantsService } from '@splitstream/tenants';
import pg from 'pg';
import { WorkerSchedule } from '../../apps/worker/src/worker-schedule.service.js';
import { adversarialBlock, worstAllowedBlock } from '../../libs/money/src/testing/adversarial.js';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { apiClient, eventually } from '../support/http.js';
import { DisposableRedis, freePort } from '../support/outages.js';
import { type Stack, startStack } from '../support/stack.js';

const DAY_CAP_SATS = 250_000;
// An app's key, not an admin's: it sees its own events only.
const APP_SCOPES = [Scope.EventsWrite, Scope.PayoutsRead, Scope.PayoutsWrite];

const event = (id: string, satsPerMinute: number, value: object, extra: object = {}) => ({
  id,
  feedGuid: 'limits-feed',
  itemGuid: 'limits-item',
  position: 0,
  seconds: 60,
  satsPerMinute,
  value,
  ...extra,
});
const toNode = (n: number) => ({ type: 'lightning', method: 'keysend', recipients: [{ type: 'node', address: pubkey(n), split: 1 }] });

// A counter of the api's /metrics, by its labels as Prometheus prints them.
const metric = async (url: string, series: string) => {
  const line = (await (await fetch(url)).text()).split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
};

// Issue 20, points 2, 6 and 8: one app's attack (splits that cost unbounded time, amounts beyond every ceiling,
// many payout runs at once) is refused, and the other app's events are still applied and paid.
describe('limits between apps (e2e)', () => {
  let stack: Stack;
  let appB: ReturnType<typeof apiClient>;
  const appA = (events: object[]) => stack.postEvents(events);
  const paidTo = async (n: number) => (await stack.recipient(pubkey(n))).body.paidMsat;

  beforeAll(async () => {
    stack = await startStack({ DEFAULT_APP_DAY_CAP_SATS: String(DAY_CAP_SATS), PAYOUT_RUN_RATE_LIMIT_PER_MINUTE: '6' });
    appB = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('app-b', APP_SCOPES)).key);
  });
  afterAll(() => stack?.close());

  it("refuses app B's adversarial splits naming the split rule, applies its worst allowed block, and pays app A", async () => {
    const refused = await appB.post('/v1/events', { events: [event('adv-5', 10, adversarialBlock('huge', 5))] });
    expect(refused).toMatchObject({ status: 400, body: { error: 'events_rejected' } });
    expect(refused.body.issues).toContainEqual({
      index: 0,
      code: 'invalid_request',
      path: 'events[0].value.recipients[0].split',
      message: '1e+300 is not a decimal from 0 to 1000000 with at most 6 decimal places',
    });
    // Worse, 10 time splits of 100 recipients each: 1,100 distinct node ids, refused before a single one is checked.
    const worse = await appB.post('/v1/events', { events: [event('adv-10', 10, adversarialBlock('huge', 10))] });
    expect(worse).toMatchObject({
      status: 400,
      body: { issues: [{ path: 'events', message: '1100 distinct node recipients; at most 1000 per request are allowed' }] },
    });
    expect((await appB.post('/v1/events', { events: [event('worst', 100, worstAllowedBlock(60))] })).status).toBe(202);
    await appA([event('a-1', 50, toNode(0xa1))]);
    await stack.accumulated();
    // Applied like any other event, every msat allocated.
    const worst = (await appB.get('/v1/events/worst')).body;
    expect(worst).toMatchObject({ amountMsat: '100000', appliedAt: expect.any(String) });
    expect(worst.allocations.reduce((sum: bigint, a: { amountMsat: string }) => sum + BigInt(a.amountMsat), 0n)).toBe(100_000n);
    await stack.runPayout();
    expect(await paidTo(0xa1)).toBe('50000');
  });

  it('sets aside an event stored before the split rule instead of splitting it, and still applies the others', async () => {
    const stored = listeningEventSchema.parse(event('stored-before', 10, toNode(0xb2)));
    if (!stored.value) throw new Error('the event carries its block');
    const payload = { ...stored, value: { ...stored.value, recipients: [{ ...stored.value.recipients[0]!, split: 1e300 }] } };
    const db = new pg.Client({ connectionString: stack.config.DATABASE_URL });
    await db.connect();
    await db.query(`INSERT INTO listening_event (app_id, event_id, payload, amount_msat) VALUES ('app-b', 'stored-before', $1::jsonb, 10000)`, [
      JSON.stringify(payload),
    ]);
    await appA([event('a-stored', 10, toNode(0xa1))]);
    await stack.worker!.get(WorkerSchedule).sweep(0);
    await stack.accumulated();
    expect((await appB.get('/v1/summary')).body.events).toMatchObject({ setAside: 1 });
    const { rows } = await db.query(`SELECT apply_error FROM listening_event WHERE event_id = 'stored-before'`);
    await db.end();
    expect(rows).toEqual([{ apply_error: 'cannot be split: split 1e+300 is not a decimal from 0 to 1000000 with at most 6 decimal places' }]);
  });

  it("rejects app B's 3x10^9 sats and its events over MAX_EVENT_SATS or MAX_REQUEST_SATS, and pays app A", async () => {
    // 500 events of 100,000 sats a minute for an hour: 3x10^9 sats, each event over MAX_EVENT_SATS.
    const huge = Array.from({ length: 500 }, (_, i) => event(`huge-${i}`, 100_000, toNode(0xb1), { seconds: 3_600 }));
    const overEvent = await appB.post('/v1/events', { events: huge });
    expect(overEvent).toMatchObject({ status: 400, body: { error: 'events_rejected' } });
    expect(overEvent.body.message).toBe('no event was stored: 500 rejected, 0 conflicting with an event of the same id; issues name each, with its code');
    expect(overEvent.body.issues).toHaveLength(500);
    expect(overEvent.body.issues[0]).toEqual({
      index: 0,
      code: 'event_amount_too_large',
      path: 'events[0].satsPerMinute',
      message: 'the event is worth 6000000000 msat; at most 100000 sats (MAX_EVENT_SATS) per event',
    });
    // 66,667 sats a minute for 90 s is 100,000,500 msat: half a sat over the ceiling is over it.
    const justOver = await appB.post('/v1/events', { events: [event('just-over', 66_667, toNode(0xb1), { seconds: 90 })] });
    expect(justOver).toMatchObject({ status: 400, body: { issues: [{ index: 0, code: 'event_amount_too_large' }] } });
    // Checking node ids on the curve costs CPU: one request names at most 1,000 distinct ones, refused before any check.
    const manyNodes = Array.from({ length: 11 }, (_, e) => ({
      type: 'lightning',
      method: 'keysend',
      recipients: Array.from({ length: 91 }, (_, r) => ({ type: 'node', address: `02${(e * 91 + r).toString(16).padStart(64, '0')}`, split: 1 })),
    }));
    const tooManyNodes = await appB.post('/v1/events', { events: manyNodes.map((value, i) => event(`nodes-${i}`, 1, value)) });
    expect(tooManyNodes).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(tooManyNodes.body.issues).toEqual([{ path: 'events', message: '1001 distinct node recipients; at most 1000 per request are allowed' }]);
    // Eleven events at the ceiling, 1,100,000 sats: the first ten are judged (the app's day cap of 250,000 sats takes
    // two of them), the eleventh is over MAX_REQUEST_SATS.
    const eleven = Array.from({ length: 11 }, (_, i) => event(`max-${i}`, 100_000, toNode(0xb1)));
    const overRequest = await appB.post('/v1/events', { events: eleven });
    expect(overRequest).toMatchObject({ status: 202, body: { accepted: 2, rejected: 9 } });
    expect(overRequest.body.events.map((e: { code?: string; status: string }) => e.code ?? e.status)).toEqual([
      'accepted',
      'accepted',
      ...Array.from({ length: 8 }, () => 'app_day_cap_exceeded'),
      'request_amount_too_large',
    ]);
    expect(overRequest.body.events[10].issues).toEqual([
      {
        path: 'events[10]',
        message:
          "the request's events up to this one are worth 1100000000 msat; at most 1000000 sats (MAX_REQUEST_SATS) per request: send it in another request",
      },
    ]);
    // The worst block, the one stored before, and the two that fit the day cap.
    expect((await appB.get('/v1/summary')).body.events.accepted).toBe(4);

    await appA([event('a-2', 30, toNode(0xa1))]);
    await stack.accumulated();
    await stack.runPayout();
    expect(await paidTo(0xa1)).toBe('90000');
  });

  // A malformed body's answer is bounded by the issue caps, not by the body: list lengths are checked before any
  // element is, an event reports at most 20 issues, an answer at most 500 (events after that are not checked).
  it('answers a body of many junk recipients with a bounded answer', async () => {
    const junk = (count: number) => ({ type: 'lightning', method: 'keysend', recipients: Array.from({ length: count }, () => ({})) });
    const tooLong = { events: Array.from({ length: 500 }, (_, i) => event(`junk-${i}`, 1, junk(200))) };
    const first = await appB.post('/v1/events', tooLong);
    expect(first.status).toBe(400);
    expect(first.body.issues).toHaveLength(500);
    expect(first.body.issues[0]).toMatchObject({ index: 0, path: 'events[0].value.recipients', message: '200 recipients; at most 100 per list are allowed' });
    expect(JSON.stringify(first.body).length).toBeLessThan(200_000);

    const atLimit = { events: Array.from({ length: 500 }, (_, i) => event(`junk-${i}`, 1, junk(100))) };
    const second = await appB.post('/v1/events', atLimit);
    expect(second.status).toBe(400);
    const issuesOf = (index: number) => second.body.issues.filter((issue: { index: number }) => issue.index === index);
    expect(issuesOf(0)).toHaveLength(20); // 100 empty recipients: 300 issues, 19 listed and one counting the rest
    expect(issuesOf(0)[19]).toMatchObject({ path: 'events[0]', message: '281 more issues not listed' });
    expect(second.body.issues.filter((issue: { message: string }) => !issue.message.startsWith('not checked'))).toHaveLength(500);
    expect(issuesOf(499)).toEqual([
      {
        index: 499,
        code: 'invalid_request',
        path: 'events[499]',
        message: 'not checked: this answer already holds 500 issues; fix those and send this event again',
      },
    ]);
    expect(JSON.stringify(second.body).length).toBeLessThan(200_000);

    // Near the 5 MB body limit: recipients full of unknown fields of a length a suggestion is computed for.
    const keys = Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`recipientsX${String(k).padStart(5, '0')}`, 0]));
    const hostile = {
      events: Array.from({ length: 500 }, (_, i) => event(`hostile-${i}`, 1, { ...junk(0), recipients: Array.from({ length: 36 }, () => keys) })),
    };
    const body = JSON.stringify(hostile);
    expect(body.length).toBeGreaterThan(4_500_000);
    const third = await appB.post('/v1/events', hostile);
    expect(third.status).toBe(400);
    expect(JSON.stringify(third.body).length).toBeLessThan(200_000);
  });

  it("stops an app without caps of its own at the service's default day cap, with no retry hint", async () => {
    const appC = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('app-c', APP_SCOPES)).key);
    const atMax = (i: number) => event(`c-${i}`, 100_000, toNode(0xc1)); // 100,000 sats each
    expect((await appC.post('/v1/events', { events: [atMax(1), atMax(2)] })).status).toBe(202);
    const refused = await appC.post('/v1/events', { events: [atMax(3)] });
    expect(refused).toMatchObject({ status: 400, body: { error: 'events_rejected', issues: [{ index: 0, code: 'app_day_cap_exceeded' }] } });
    expect(refused.body.issues[0].message).toContain(`the app's daily cap of ${DAY_CAP_SATS * 1000} msat`);
    expect(refused.headers.get('retry-after')).toBeNull();
  });

  it('rejects the events without listenerId once the app has a listener cap, and stores the others', async () => {
    const appD = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('app-d', APP_SCOPES)).key);
    await stack.api.get(TenantsService).setCaps('app-d', { listenerDayCapMsat: 1_000_000n });
    const batch = await appD.post('/v1/events', { events: [event('d-1', 10, toNode(0xd1), { listenerId: 'l1' }), event('d-2', 10, toNode(0xd1))] });
    expect(batch).toMatchObject({ status: 202, body: { accepted: 1, rejected: 1 } });
    expect(batch.body.events[1]).toEqual({
      index: 1,
      id: 'd-2',
      status: 'rejected',
      code: 'listener_id_required',
      issues: [{ path: 'events[1].listenerId', message: 'is required: the app has a per-listener daily cap' }],
    });
    expect((await appD.get('/v1/events/d-1')).status).toBe(200);
    expect((await appD.get('/v1/events/d-2')).status).toBe(404);
    const alone = await appD.post('/v1/events', { events: [event('d-3', 10, toNode(0xd1))] });
    expect(alone).toMatchObject({
      status: 400,
      body: { error: 'events_rejected', issues: [{ index: 0, code: 'listener_id_required', path: 'events[0].listenerId' }] },
    });
  });

  it(`lets at most PAYOUT_RUN_RATE_LIMIT_PER_MINUTE of 15 parallel POST /v1/payouts/run of one app through; the rest get 429`, async () => {
    // Not across a minute's boundary, where the window starts again.
    if (Date.now() % 60_000 > 57_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - (Date.now() % 60_000) + 100));
    const runner = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('app-runner', APP_SCOPES)).key);
    const answers = await Promise.all(Array.from({ length: 15 }, () => runner.post('/v1/payouts/run', {})));
    const limit = stack.config.PAYOUT_RUN_RATE_LIMIT_PER_MINUTE;
    const through = answers.filter((a) => a.status < 300);
    const limited = answers.filter((a) => a.status === 429);
    expect([through.length, limited.length]).toEqual([limit, 15 - limit]);
    expect(limited[0]!.body).toMatchObject({ error: 'rate_limited' });
    expect(limited[0]!.body.message).toMatch(/^more than 6 payout runs requested for this app this minute \(PAYOUT_RUN_RATE_LIMIT_PER_MINUTE\)/);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another app's budget is its own.
    const fromB = await appB.post('/v1/payouts/run', {});
    expect(fromB.status).toBeLessThan(300);
    // The run these requests share ends before the stack closes (a run cut off mid-transaction logs an error).
    await eventually(
      () => stack.http.get(`/v1/payouts/${fromB.body.id}`),
      (r) => r.status === 200 && FINAL_PAYOUT_STATUSES.includes(r.body.status),
    );
  });
});

describe('the rate limiter while Redis is down (e2e)', () => {
  let stack: Stack;
  const redis = new DisposableRedis(0);

  beforeAll(async () => {
    redis.port = await freePort();
    await redis.start();
    stack = await startStack({ REDIS_URL: redis.url, EVENTS_RATE_LIMIT_PER_MINUTE: '3' }, { worker: false });
  });
  afterAll(async () => {
    if (!redis.running) await redis.start(); // the stack's queues close through Redis (when the test failed early)
    await stack?.close();
    await redis.stop();
  });

  it('counts in the api process: the limit still holds, and the metric counts every request so counted', async () => {
    // The five requests (each waits on the stopped Redis first) must fall in one minute's window: 20 s is ample.
    if (Date.now() % 60_000 > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - (Date.now() % 60_000) + 100));
    await redis.stop();
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await stack.http.post('/v1/events', { events: [event(`r-${i}`, 10, toNode(0xe1))] })).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    // /metrics reads the queues' gauges from Redis too: scraped once it is back (the counter is the process's).
    await redis.start();
    await eventually(
      () => metric(stack.metricsUrl, 'splitstream_rate_limit_fallback_total{budget="events"}'),
      (count) => count === 5,
    );
    expect((await stack.http.get('/v1/summary')).body.events.accepted).toBe(3);
  });

  it('answers a payout run (and a reconciliation) request 503 within seconds while Redis is down (nothing started), and runs again once it is back', async () => {
    await redis.stop();
    const refused = await stack.http.post('/v1/payouts/run', {});
    expect(refused).toMatchObject({ status: 503, body: { error: 'service_unavailable' } });
    expect(refused.headers.get('retry-after')).toBe('5');
    // Every request that queues a job answers so: a reconciliation request too.
    expect(await stack.http.post('/v1/payments/reconcile', {})).toMatchObject({ status: 503, body: { error: 'service_unavailable' } });
    await redis.start();
    // The refused run holds no place: the next request starts a run of its own.
    const started = await stack.http.post('/v1/payouts/run', {});
    expect(started).toMatchObject({ status: 202, body: { started: true } });
    expect(started.body.id).not.toBe(refused.body.id);
  });
});
