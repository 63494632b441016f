import { parse } from 'csv-parse/sync';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { apiClient } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const alice = pubkey(0x0a11ce);
const dead = pubkey(0x0dead1);
const hangs = pubkey(0x4a9901);
const bobOnly = pubkey(0x0b0b);

const node = (name: string, address: string, split: number) => ({ name, type: 'node', address, split });
const event = (id: string, feedGuid: string, itemGuid: string, satsPerMinute: number, recipients: object[]) => ({
  id,
  feedGuid,
  itemGuid,
  feedTitle: `Feed ${feedGuid}`,
  itemTitle: `Episode ${itemGuid}`,
  position: 0,
  seconds: 60,
  satsPerMinute,
  value: { type: 'lightning', method: 'keysend', recipients },
});

// What operators and creators read, over real HTTP: lists with filters and cursors, tenancy between apps,
// statements and show summaries. App A and app B share one recipient (Alice); the admin key sees both.
describe('operators and creators: lists, tenancy, statements (e2e)', () => {
  let stack: Stack;
  let a: ReturnType<typeof client>;
  let b: ReturnType<typeof client>;
  let payoutId: string;
  const client = (key: string) => apiClient(stack.baseUrl, key);
  const admin = () => stack.http;
  const idOf = async (address: string) => (await stack.recipient(address)).body.id as string;
  const appScopes = [Scope.EventsWrite, Scope.PayoutsRead, Scope.PayoutsWrite];

  beforeAll(async () => {
    // One keysend per request, so the hanging one makes only itself unknown.
    stack = await startStack({ MAX_ATTEMPTS: '1', ALBY_TIMEOUT_MS: '500', KEYSEND_BATCH_SIZE: '1' });
    const keys = stack.api.get(ApiKeysService);
    a = client((await keys.create('app-a', appScopes)).key);
    b = client((await keys.create('app-b', appScopes)).key);
    expect(
      (
        await a.post('/v1/events', {
          events: [
            event('a-1', 'feed-a', 'ep-1', 100, [node('Alice Host', alice, 50), node('Dead', dead, 25), node('Hangs', hangs, 25)]),
            event('a-2', 'feed-a', 'ep-2', 40, [node('Alice Host', alice, 1)]),
          ],
        })
      ).status,
    ).toBe(202);
    expect((await b.post('/v1/events', { events: [event('b-1', 'feed-b', 'ep-1', 30, [node('Alice', alice, 1), node('Bob', bobOnly, 1)])] })).status).toBe(202);
    await stack.accumulated();
    await stack.sim.setRule(dead, { fail: { code: 10, message: 'FAILURE_REASON_NO_ROUTE' } });
    await stack.sim.setRule(hangs, { hang: true });
    const run = await stack.runPayout();
    payoutId = run.id;
    expect(run.totals).toMatchObject({ keysends: 6, succeeded: 4, failed: 1, unknown: 1 });
  }, 60_000);
  afterAll(() => stack?.close());

  it('lists keysends by status, newest first: unknown, failed, parked, paid', async () => {
    const statuses = async (query: string) => (await a.get(`/v1/keysends?${query}`)).body.keysends.map((k: any) => [k.recipient.address, k.status]);
    expect(await statuses('status=unknown')).toEqual([[hangs, 'unknown']]);
    expect(await statuses('status=failed')).toEqual([[dead, 'failed']]);
    expect(await statuses('status=parked')).toEqual([[dead, 'failed']]);
    expect(await statuses('status=paid')).toEqual([
      [alice, 'succeeded'],
      [alice, 'succeeded'],
    ]);
    const all = (await a.get('/v1/keysends')).body.keysends.map((k: any) => Number(k.id));
    expect(all).toHaveLength(4);
    expect(all).toEqual([...all].sort((x, y) => y - x));
    // The stack pays the Alby simulator (WALLET_BACKEND=alby-sim): every payment says no real sats moved.
    expect((await a.get('/v1/payments')).body.keysends.map((k: any) => k.simulated)).toEqual([true, true, true, true]);
  });

  it('filters keysends by recipient, payout and time, and pages with the cursor', async () => {
    const aliceId = await idOf(alice);
    expect((await a.get(`/v1/keysends?recipient=${aliceId}`)).body.keysends).toHaveLength(2);
    expect((await admin().get(`/v1/keysends?recipient=${aliceId}`)).body.keysends).toHaveLength(3);
    expect((await a.get(`/v1/keysends?payout=${payoutId}`)).body.keysends).toHaveLength(4);
    expect((await a.get('/v1/keysends?payout=999999')).body.keysends).toHaveLength(0);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    expect((await a.get(`/v1/keysends?from=${hourAgo}&to=${inAnHour}`)).body.keysends).toHaveLength(4);
    expect((await a.get(`/v1/keysends?from=${inAnHour}`)).body.keysends).toHaveLength(0);
    expect((await a.get(`/v1/keysends?to=${hourAgo}`)).body.keysends).toHaveLength(0);

    const pages: string[][] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: any = (await a.get(`/v1/keysends?limit=3${cursor ? `&before=${cursor}` : ''}`)).body;
      pages.push(page.keysends.map((k: any) => k.id));
      cursor = page.nextBefore;
      if (cursor !== null) expect(cursor).toMatch(/^[A-Za-z0-9_-]{48}$/); // opaque: no payment id
    }
    expect(pages.map((p) => p.length)).toEqual([3, 1]);
    expect(pages.flat()).toEqual((await a.get('/v1/keysends')).body.keysends.map((k: any) => k.id));
  });

  it('lists recipients: parked, owing at least an amount, by name or address prefix, with cursors', async () => {
    const addresses = async (query: string) => (await a.get(`/v1/recipients?${query}`)).body.recipients.map((r: any) => r.address);
    expect(await addresses('parked=true')).toEqual([dead]);
    expect(await addresses('parked=false')).toEqual([hangs, alice]);
    expect(await addresses('q=alice')).toEqual([alice]);
    expect(await addresses('q=ALI')).toEqual([alice]);
    expect(await addresses(`q=${hangs.slice(0, 12)}`)).toEqual([hangs]);
    expect(await addresses('q=%25')).toEqual([]); // a LIKE wildcard is a character, not a pattern
    expect(await addresses('owedAtLeastMsat=1')).toEqual([]); // everything is paid, in flight or parked
    expect((await a.get('/v1/recipients?parked=true')).body.recipients[0]).toMatchObject({ state: 'parked', parkedMsat: '25000', owedMsat: '0' });

    const first = (await a.get('/v1/recipients?limit=2')).body;
    expect(first.recipients).toHaveLength(2);
    expect(first.nextBefore).toMatch(/^[A-Za-z0-9_-]{48}$/); // opaque: no recipient id
    const second = (await a.get(`/v1/recipients?limit=2&before=${first.nextBefore}`)).body;
    expect(second).toMatchObject({ nextBefore: null });
    expect([...first.recipients, ...second.recipients].map((r: any) => r.address)).toEqual([hangs, dead, alice]);
  });

  // The README: nextBefore is null on the last page, also when that page is exactly full.
  it('ends every list with nextBefore null on an exactly full last page', async () => {
    for (const [path, key] of [
      ['/v1/keysends', 'keysends'],
      ['/v1/recipients', 'recipients'],
      ['/v1/payouts', 'payouts'],
      ['/v1/events', 'events'],
    ] as const) {
      const rows = (await a.get(path)).body[key].length;
      expect([path, (await a.get(`${path}?limit=${rows}`)).body.nextBefore]).toEqual([path, null]);
      if (rows < 2) continue;
      const first = (await a.get(`${path}?limit=${rows - 1}`)).body;
      const last = (await a.get(`${path}?limit=1&before=${first.nextBefore}`)).body;
      expect([path, last[key].length, last.nextBefore]).toEqual([path, 1, null]);
    }
  });

  it('refuses unknown and malformed query parameters with 400 in the standard shape', async () => {
    for (const path of [
      '/v1/keysends?stauts=unknown',
      '/v1/recipients?parkd=true',
      '/v1/payouts?page=2',
      '/v1/keysends?status=lost',
      '/v1/recipients?owedAtLeastMsat=1.5',
      '/v1/keysends?from=yesterday',
      '/v1/keysends?before=abc',
    ]) {
      const res = await a.get(path);
      expect([path, res.status, res.body.error]).toEqual([path, 400, 'invalid_request']);
      expect(res.body.issues.length).toBeGreaterThan(0);
    }
    // Named, with the known parameter it was probably meant to be, and in plain words.
    const issues = async (path: string) => (await a.get(path)).body.issues;
    expect(await issues('/v1/events?feedguid=x')).toEqual([{ path: 'feedguid', message: 'unknown field; did you mean feedGuid?' }]);
    expect(await issues('/v1/keysends?stauts=unknown')).toEqual([{ path: 'stauts', message: 'unknown field; did you mean status?' }]);
    for (const limit of ['0', '101', '2.5', 'ten']) {
      expect(await issues(`/v1/recipients?limit=${limit}`)).toEqual([{ path: 'limit', message: 'must be a whole number from 1 to 100' }]);
    }
    expect(await issues('/v1/payouts/paid-per-hour?hours=0')).toEqual([{ path: 'hours', message: 'must be a whole number from 1 to 744' }]);
    expect(await issues('/v1/events?feedGuid=')).toEqual([{ path: 'feedGuid', message: 'must be 1 to 256 characters' }]);
    // Routes without query parameters refuse any, naming it.
    for (const path of ['/v1/summary?app=app-b', '/v1/payouts/1?verbose=1', '/v1/apps/me?x=1']) {
      const res = await a.get(path);
      expect([path, res.status, res.body.error, res.body.issues[0].message]).toEqual([path, 400, 'invalid_request', 'is not a parameter of this route']);
    }
  });

  it('keeps apps apart: each sees its own money, keysends, events and statements; admin sees all', async () => {
    const [sa, sb, all] = await Promise.all([a.get('/v1/summary'), b.get('/v1/summary'), admin().get('/v1/summary')]);
    expect(sa.body.accruedMsat).toBe('140000');
    expect(sb.body.accruedMsat).toBe('30000');
    expect(all.body.accruedMsat).toBe('170000');
    expect(sa.body.events.accepted + sb.body.events.accepted).toBe(all.body.events.accepted);

    const aliceId = await idOf(alice);
    expect((await a.get(`/v1/recipients/${aliceId}`)).body).toMatchObject({ accruedMsat: '90000', paidMsat: '90000' });
    expect((await b.get(`/v1/recipients/${aliceId}`)).body).toMatchObject({ accruedMsat: '15000', paidMsat: '15000' });
    expect((await admin().get(`/v1/recipients/${aliceId}`)).body).toMatchObject({ accruedMsat: '105000', paidMsat: '105000' });

    const deadId = await idOf(dead);
    const unknown = (await a.get('/v1/keysends?status=unknown')).body.keysends[0];
    expect((await b.get(`/v1/recipients/${deadId}`)).status).toBe(404);
    expect((await b.get(`/v1/recipients/${deadId}/statement`)).status).toBe(404);
    expect((await b.get(`/v1/keysends/${unknown.id}`)).status).toBe(404);
    expect((await b.get('/v1/events/a-1')).status).toBe(404);
    expect((await b.get('/v1/recipients')).body.recipients.map((r: any) => r.address).sort()).toEqual([alice, bobOnly].sort());
    expect((await b.get('/v1/keysends')).body.keysends).toHaveLength(2);
    expect((await b.get(`/v1/payouts/${payoutId}`)).body.totals).toMatchObject({ keysends: 2, succeeded: 2 });
    expect((await b.get('/v1/payouts')).body.payouts[0].totals).toMatchObject({ keysends: 2 });
    expect((await a.get(`/v1/payouts/${payoutId}`)).body.keysends).toHaveLength(4);
    expect((await b.get('/v1/feeds/feed-a/summary')).status).toBe(404);
    expect((await b.get('/v1/ledger/check')).status).toBe(403);

    // Actions too: B can neither resolve A's keysend nor unpark A's recipient.
    expect((await b.post(`/v1/payments/${unknown.id}/resolve`, { outcome: 'succeeded', preimage: 'ab'.repeat(32) })).status).toBe(404);
    expect((await b.post(`/v1/keysends/${unknown.id}/resolve`, { outcome: 'failed', confirm: true, reason: 'not mine to decide' })).status).toBe(403);
    expect((await b.post('/v1/recipients/unpark', { address: dead })).status).toBe(404);
    expect((await a.get(`/v1/keysends/${unknown.id}`)).body.status).toBe('unknown');
    expect((await a.get(`/v1/recipients/${deadId}`)).body.parked).toBe(true);
  });

  it('gives a creator a statement whose sums equal the ledger, in JSON and in CSV', async () => {
    const aliceId = await idOf(alice);
    const ledger = (await a.get(`/v1/recipients/${aliceId}`)).body;
    const statement = (await a.get(`/v1/recipients/${aliceId}/statement`)).body;
    expect(statement.totals).toMatchObject({
      accruedMsat: ledger.accruedMsat,
      paidMsat: ledger.paidMsat,
      owedMsat: ledger.owedMsat,
      inFlightMsat: ledger.inFlightMsat,
      parkedMsat: ledger.parkedMsat,
    });
    expect(statement.feeds).toEqual([expect.objectContaining({ feedGuid: 'feed-a', feedTitle: 'Feed feed-a', accruedMsat: '90000', paidMsat: '90000' })]);
    expect(statement.episodes.map((e: any) => [e.itemGuid, e.itemTitle, e.accruedMsat, e.paidMsat])).toEqual([
      ['ep-1', 'Episode ep-1', '50000', '50000'],
      ['ep-2', 'Episode ep-2', '40000', '40000'],
    ]);
    const sum = (values: string[]) => values.reduce((s, v) => s + BigInt(v), 0n);
    expect(sum(statement.keysends.filter((k: any) => k.status === 'succeeded').map((k: any) => k.amountMsat))).toBe(BigInt(ledger.paidMsat));
    expect(statement.keysends.every((k: any) => /^[0-9a-f]{64}$/.test(k.paymentHash))).toBe(true);

    const csv = await a.get(`/v1/recipients/${aliceId}/statement`, { accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows: Record<string, string>[] = parse(csv.body, { columns: true });
    expect(rows.filter((r) => r.row === 'keysend').map((r) => [r.payment_id, r.amount_msat, r.status, r.payment_hash])).toEqual(
      statement.keysends.map((k: any) => [k.id, k.amountMsat, k.status, k.paymentHash]),
    );
    expect(rows.filter((r) => r.row === 'episode').map((r) => r.accrued_msat)).toEqual(['50000', '40000']);
    expect(rows.find((r) => r.row === 'total')).toMatchObject({ accrued_msat: ledger.accruedMsat, paid_msat: ledger.paidMsat, owed_msat: ledger.owedMsat });

    // Periods are whole UTC days. One from yesterday to the day after tomorrow holds all of it (as dates, or midnights
    // at any offset); one from tomorrow nothing accrued or paid, while what is owed now is still shown.
    const utcDay = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
    for (const period of [`from=${utcDay(-1)}&to=${utcDay(2)}`, `from=${utcDay(-1)}T01:00:00%2B01:00&to=${utcDay(2)}T00:00:00.000Z`]) {
      const whole = (await a.get(`/v1/recipients/${aliceId}/statement?${period}`)).body;
      expect(whole.totals).toEqual(statement.totals);
      expect(whole.episodes).toEqual(statement.episodes);
    }
    const empty = (await a.get(`/v1/recipients/${aliceId}/statement?from=${utcDay(1)}`)).body;
    expect(empty.period).toEqual({ from: `${utcDay(1)}T00:00:00.000Z`, to: null });
    expect(empty.totals).toMatchObject({ accruedMsat: '0', paidMsat: '0', owedMsat: ledger.owedMsat });
    expect(empty.keysends).toEqual([]);
    const midday = await a.get(`/v1/recipients/${aliceId}/statement?from=${utcDay(1)}T12:00:00Z`);
    expect([midday.status, midday.body.error, midday.body.issues]).toEqual([
      400,
      'invalid_request',
      [{ path: 'from', message: 'must be a whole UTC day: a date such as 2026-11-29, or its midnight 2026-11-29T00:00:00Z' }],
    ]);
    expect((await a.get(`/v1/recipients/${aliceId}/statement?since=${utcDay(1)}`)).status).toBe(400);
  });

  it("summarises a show: accrued, paid and owed per recipient, adding up to the app's totals", async () => {
    const summary = (await a.get('/v1/feeds/feed-a/summary')).body;
    expect(summary).toMatchObject({ feedGuid: 'feed-a', feedTitle: 'Feed feed-a' });
    expect(summary.recipients.map((r: any) => [r.address, r.accruedMsat, r.paidMsat, r.inFlightMsat, r.parkedMsat])).toEqual([
      [alice, '90000', '90000', '0', '0'],
      [dead, '25000', '0', '0', '25000'],
      [hangs, '25000', '0', '25000', '0'],
    ]);
    const app = (await a.get('/v1/summary')).body;
    expect(summary.totals).toEqual({
      accruedMsat: app.accruedMsat,
      paidMsat: app.paidMsat,
      owedMsat: app.owedMsat,
      inFlightMsat: app.inFlightMsat,
      parkedMsat: app.parkedMsat,
    });
    expect((await a.get('/v1/feeds/no-such-feed/summary')).status).toBe(404);
  });

  // Last: it adds owed money the tests above do not expect.
  it('shows owed, in-flight, unknown and parked money and counts as gauges', async () => {
    await a.post('/v1/events', { events: [event('a-3', 'feed-a', 'ep-3', 10, [node('Alice Host', alice, 1)])] });
    await stack.accumulated();
    const metrics = await (await fetch(stack.metricsUrl)).text();
    const gauge = (name: string) => Number(new RegExp(`^splitstream_${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(
      Object.fromEntries(
        ['owed_msat', 'owed_recipients', 'in_flight_msat', 'in_flight_keysends', 'unknown_msat', 'unknown_keysends', 'parked_msat', 'parked_recipients'].map(
          (g) => [g, gauge(g)],
        ),
      ),
    ).toEqual({
      owed_msat: 10_000,
      owed_recipients: 1,
      in_flight_msat: 25_000,
      in_flight_keysends: 1,
      unknown_msat: 25_000,
      unknown_keysends: 1,
      parked_msat: 25_000,
      parked_recipients: 1,
    });
  });

  it("keeps an episode's titles when a later event leaves them out, and takes new ones when an event gives them", async () => {
    const untitled = ({ feedTitle: _feed, itemTitle: _item, ...rest }: ReturnType<typeof event>) => rest;
    const feedTitle = async () => (await a.get('/v1/feeds/feed-t/summary')).body.feedTitle;
    expect((await a.post('/v1/events', { events: [event('t-1', 'feed-t', 'ep-1', 10, [node('Alice Host', alice, 1)])] })).status).toBe(202);
    await stack.accumulated();
    expect(await feedTitle()).toBe('Feed feed-t');
    expect((await a.post('/v1/events', { events: [untitled(event('t-2', 'feed-t', 'ep-1', 10, [node('Alice Host', alice, 1)]))] })).status).toBe(202);
    await stack.accumulated();
    expect(await feedTitle()).toBe('Feed feed-t');
    const renamed = { ...event('t-3', 'feed-t', 'ep-1', 10, [node('Alice Host', alice, 1)]), feedTitle: 'Renamed' };
    // In one batch too: the later event without a title keeps the earlier one's.
    expect((await a.post('/v1/events', { events: [renamed, untitled(event('t-4', 'feed-t', 'ep-1', 10, [node('Alice Host', alice, 1)]))] })).status).toBe(202);
    await stack.accumulated();
    expect(await feedTitle()).toBe('Renamed');
  });
});
