import { parse } from 'csv-parse/sync';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { TenantsService } from '@splitstream/tenants';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { apiClient, eventually } from '../support/http.js';
import { LN_DOMAIN, type Stack, startStack } from '../support/stack.js';

const HOST = pubkey(0x900);
const KIM_NODE = pubkey(0x901);
const TINY = pubkey(0x902);
const REPLY = pubkey(0x903);
const ln = (user: string) => `${user}@${LN_DOMAIN}`;

// A boost of `amountSats` with a message to a node (60), a Lightning Address offering keysend (30), one paid by
// LNURL-pay (10), and a node whose 0.05 split is worth less than a sat.
const boost = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  feedGuid: 'feed-boosts',
  itemGuid: 'item-boosts-1',
  feedTitle: 'Boost Show',
  itemTitle: 'Episode 1',
  position: 600.5,
  amountSats: 1000,
  message: 'Great show! ⚡ from the boost e2e',
  senderName: 'satoshi',
  appName: 'Fountain',
  replyAddress: REPLY,
  replyCustomKey: '696969',
  replyCustomValue: 'satoshi-wallet',
  value: {
    type: 'lightning',
    method: 'keysend',
    recipients: [
      { name: 'Host', type: 'node', address: HOST, split: 60 },
      { name: 'Kim', type: 'lnaddress', address: ln('kim'), split: 30 },
      { name: 'Lara', type: 'lnaddress', address: ln('lara'), split: 10 },
      { name: 'Tiny', type: 'node', address: TINY, split: 0.05 },
    ],
  },
  ...overrides,
});

// Boosts over real HTTP, PostgreSQL and Redis, paid on the Alby simulator (the addresses' domain too).
describe('boosts (e2e)', () => {
  let stack: Stack;
  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => query<T>(stack.config.DATABASE_URL, text, params);
  const settled = (id: string, client = stack.http) =>
    eventually(
      () => client.get(`/v1/boosts/${id}`),
      (r) => r.status === 200 && r.body.status === 'paid',
      15_000,
    );

  beforeAll(async () => {
    stack = await startStack({ RETRY_BASE_SECONDS: '1', RETRY_MAX_SECONDS: '1' });
    await stack.sim.lnaddress.setUser('kim', { keysend: { pubkey: KIM_NODE, customData: [{ customKey: '696969', customValue: 'kim-wallet' }] } });
  });
  afterAll(() => stack.close());

  it('pays every recipient within seconds, by its own job, each payment carrying the boost record', async () => {
    const started = Date.now();
    const posted = await stack.http.post('/v1/boosts', boost('boost-1'));
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ status: 'accepted', boost: { id: 'boost-1', amountMsat: '1000000', message: boost('b').message } });
    const { body: paid } = await settled('boost-1');
    expect(Date.now() - started).toBeLessThan(15_000);

    const payments = await stack.sim.payments();
    const keysends = payments.filter((p) => p.kind === 'keysend');
    expect(keysends.map((p) => [p.destination, p.amount]).sort()).toEqual(
      [
        [HOST, 599],
        [KIM_NODE, 299],
      ].sort(),
    );
    const uuid = paid.boostUuid;
    for (const p of keysends) {
      expect(p.blip10).toMatchObject({
        action: 'boost',
        message: 'Great show! ⚡ from the boost e2e',
        sender_name: 'satoshi',
        value_msat: p.amount * 1000,
        value_msat_total: 1_000_000,
        boost_uuid: uuid,
        reply_address: REPLY,
        reply_custom_key: '696969',
        reply_custom_value: 'satoshi-wallet',
        guid: 'feed-boosts',
        episode_guid: 'item-boosts-1',
        podcast: 'Boost Show',
        ts: 600,
      });
    }
    expect(keysends.find((p) => p.destination === KIM_NODE)!.customRecords['696969']).toBe('kim-wallet');
    // The LNURL-pay address: an invoice for its share, the message in the comment its wallet shows.
    const [invoice] = (await stack.sim.lnaddress.invoices()).filter((i) => i.user === 'lara');
    expect(invoice).toMatchObject({ msat: '99000' });
    expect(invoice!.comment).toContain('satoshi: Great show! ⚡ from the boost e2e');
    expect(payments.filter((p) => p.kind === 'bolt11')).toHaveLength(1);

    // Each share, exact; what could not be sent alone joined the recipient's stream balance (never lost).
    const share = (address: string) => paid.shares.find((s: { recipient: { address: string } }) => s.recipient.address === address);
    expect(share(HOST)).toMatchObject({ amountMsat: '599700', paidMsat: '599000', joinedBalanceMsat: '700', owedMsat: '0' });
    expect(share(HOST).payments).toEqual([expect.objectContaining({ status: 'succeeded', amountSats: 599, method: 'keysend' })]);
    expect(share(ln('lara')).payments).toEqual([expect.objectContaining({ status: 'succeeded', method: 'invoice' })]);
    const tinyShare = share(TINY).amountMsat;
    expect(Number(tinyShare)).toBeLessThan(1000);
    expect(share(TINY)).toMatchObject({ paidMsat: '0', joinedBalanceMsat: tinyShare, payments: [] });
    const shares = paid.shares.reduce((sum: bigint, s: { amountMsat: string }) => sum + BigInt(s.amountMsat), 0n);
    expect(shares).toBe(1_000_000n);
    // Its own run, never a scheduled one; the joined money waits on the stream balances.
    expect((await sql<{ trigger: string }>('SELECT DISTINCT trigger FROM payout')).map((r) => r.trigger)).toEqual(['boost']);
    const [tiny] = await sql<{ owed: string }>(
      `SELECT b.owed_msat::text AS owed FROM balance b JOIN recipient r ON r.id = b.recipient_id WHERE r.address = $1 AND b.boost_id IS NULL`,
      [TINY],
    );
    expect(tiny).toEqual({ owed: tinyShare });
    expect(await stack.invariant()).toMatchObject({ ok: true, problems: [] });

    // The creator's statement lists the boost with its message; its episode's accrued money is the whole share.
    const host = (await stack.recipient(HOST)).body;
    const { body: statement } = await stack.http.get(`/v1/recipients/${host.id}/statement`);
    expect(statement.boosts).toEqual([
      expect.objectContaining({
        id: 'boost-1',
        message: 'Great show! ⚡ from the boost e2e',
        senderName: 'satoshi',
        amountMsat: '599700',
        joinedBalanceMsat: '700',
      }),
    ]);
    expect(statement.totals).toMatchObject({ accruedMsat: '599700', paidMsat: '599000', owedMsat: '700' });
    // The same in the statement's CSV: a boost row with its message, beside its payment's row.
    const csv = await stack.http.get(`/v1/recipients/${host.id}/statement`, { accept: 'text/csv' });
    const rows: Record<string, string>[] = parse(csv.body, { columns: true });
    expect(rows.filter((r) => r.row === 'boost')).toEqual([
      expect.objectContaining({
        boost_id: 'boost-1',
        message: 'Great show! ⚡ from the boost e2e',
        sender_name: 'satoshi',
        amount_msat: '599700',
        joined_msat: '700',
      }),
    ]);
    expect(rows.filter((r) => r.row === 'keysend')).toEqual([expect.objectContaining({ amount_msat: '599000', status: 'succeeded' })]);
  });

  it('is idempotent: the same id and content is a duplicate, other content a conflict; nothing is paid twice', async () => {
    const before = (await stack.sim.payments()).length;
    const again = await stack.http.post('/v1/boosts', boost('boost-1'));
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ status: 'duplicate', boost: { id: 'boost-1', status: 'paid' } });
    const changed = await stack.http.post('/v1/boosts', boost('boost-1', { message: 'another message' }));
    expect(changed.status).toBe(409);
    expect(changed.body).toMatchObject({ error: 'conflict', issues: [{ path: 'id' }] });
    expect(await sql('SELECT id FROM boost WHERE boost_id = $1', ['boost-1'])).toHaveLength(1);
    expect((await stack.sim.payments()).length).toBe(before);
  });

  it('refuses a message that cannot fit the bLIP-10 record, naming the byte limit, and stores nothing', async () => {
    const res = await stack.http.post('/v1/boosts', boost('boost-long', { message: 'é'.repeat(500) }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', issues: [{ path: 'message', message: expect.stringContaining('at most 1024 bytes') }] });
    expect(await sql('SELECT id FROM boost WHERE boost_id = $1', ['boost-long'])).toEqual([]);
    // A strict body: an unknown field is refused too.
    const unknown = await stack.http.post('/v1/boosts', { ...boost('boost-typo'), mesage: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues).toEqual([expect.objectContaining({ path: 'mesage' })]);
  });

  it("charges the app's caps: a boost over the daily cap is refused with its code and charges nothing", async () => {
    const tenants = stack.api.get(TenantsService);
    const spent = BigInt((await tenants.view('test-app')).accepted.todayMsat);
    expect(spent).toBe(1_000_000n); // boost-1: boosts count with the events
    await tenants.setCaps('test-app', { dayCapMsat: spent + 1_400_000n });
    try {
      const over = await stack.http.post('/v1/boosts', boost('boost-capped', { amountSats: 2000 }));
      expect(over.status).toBe(400);
      expect(over.body).toMatchObject({ error: 'app_day_cap_exceeded', issues: [{ path: 'amountSats' }] });
      expect(await sql('SELECT id FROM boost WHERE boost_id = $1', ['boost-capped'])).toEqual([]);
      const fits = await stack.http.post('/v1/boosts', boost('boost-fits', { amountSats: 500 }));
      expect(fits.status).toBe(202);
      const overAgain = await stack.http.post('/v1/boosts', boost('boost-capped-2', { amountSats: 1000 }));
      expect(overAgain.body.error).toBe('app_day_cap_exceeded');
      await settled('boost-fits');
    } finally {
      await tenants.setCaps('test-app', { dayCapMsat: null });
    }
  });

  it("lists boosts newest first by feed and recipient, and no app sees or touches another app's boosts", async () => {
    const list = await stack.http.get(`/v1/boosts?feedGuid=feed-boosts&recipient=${encodeURIComponent(ln('lara'))}`);
    expect(list.status).toBe(200);
    expect(list.body.boosts.map((b: { id: string }) => b.id)).toEqual(['boost-fits', 'boost-1']);
    expect(list.body.boosts[0]).toMatchObject({ message: expect.any(String), href: '/v1/boosts/boost-fits?app=test-app' });
    expect((await stack.http.get('/v1/boosts?feedGuid=another-feed')).body.boosts).toEqual([]);
    const paged = await stack.http.get('/v1/boosts?limit=1');
    expect(paged.body.nextBefore).toEqual(expect.any(String));
    expect((await stack.http.get(`/v1/boosts?limit=1&before=${paged.body.nextBefore}`)).body.boosts.map((b: { id: string }) => b.id)).toEqual(['boost-1']);

    const other = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('other-app', [Scope.EventsWrite, Scope.PayoutsRead])).key);
    expect((await other.get('/v1/boosts/boost-1')).status).toBe(404);
    expect((await other.get('/v1/boosts/boost-1?app=test-app')).status).toBe(403);
    expect((await other.get('/v1/boosts')).body.boosts).toEqual([]);
    expect((await other.get('/v1/boosts?app=test-app')).status).toBe(403);
    // Its own boost of the same id is its own: no conflict with the other app's, and paid apart.
    const own = await other.post('/v1/boosts', boost('boost-1', { amountSats: 10, message: 'from another app' }));
    expect(own.body).toMatchObject({ status: 'accepted', boost: { app: 'other-app' } });
    await settled('boost-1', other);
    expect((await stack.http.get('/v1/boosts/boost-1')).body).toMatchObject({ app: 'test-app', amountMsat: '1000000' });
    // An admin reads any app's with ?app=.
    expect((await stack.http.get('/v1/boosts/boost-1?app=other-app')).body).toMatchObject({ app: 'other-app', message: 'from another app' });
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });
});

// Many apps on one service: one app's flood of boosts (to a slow node) neither keeps another app's boost waiting
// for the whole flood, nor skips a scheduled or manual run, and every boost is paid exactly once.
describe('boosts under a flood from one app (e2e)', () => {
  let stack: Stack;
  const SLOW = pubkey(0x910);
  const QUICK = pubkey(0x911);
  const FLOOD = 80;
  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => query<T>(stack.config.DATABASE_URL, text, params);
  const single = (id: string, address: string, overrides: Record<string, unknown> = {}) =>
    boost(id, {
      amountSats: 10,
      replyAddress: undefined,
      replyCustomKey: undefined,
      replyCustomValue: undefined,
      value: { type: 'lightning', method: 'keysend', recipients: [{ name: 'One', type: 'node', address, split: 1 }] },
      ...overrides,
    });

  beforeAll(async () => {
    stack = await startStack({ EVENTS_RATE_LIMIT_PER_MINUTE: '10000', KEYSEND_BATCH_SIZE: '5' });
    await stack.sim.setRule(SLOW, { delayMs: 100 });
  });
  afterAll(() => stack.close());

  it("pays another app's boost in its turn, runs a requested payout, and pays every flooded boost once", async () => {
    const flooder = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('flood-app', [Scope.EventsWrite, Scope.PayoutsRead])).key);
    for (let i = 0; i < FLOOD; i++) expect((await flooder.post('/v1/boosts', single(`flood-${i}`, SLOW))).status).toBe(202);
    await stack.postEvents([
      { id: 'stream-1', feedGuid: 'feed-boosts', itemGuid: 'item-boosts-1', position: 0, seconds: 60, satsPerMinute: 100, value: single('x', QUICK).value },
    ]);
    await stack.accumulated();

    const posted = await stack.http.post('/v1/boosts', single('quick-1', QUICK, { message: 'not behind the flood' }));
    expect(posted.status).toBe(202);
    await eventually(
      () => stack.http.get('/v1/boosts/quick-1'),
      (r) => r.body.status === 'paid',
      15_000,
    );
    // Paid in its app's first turn: most of the flood was still owed or in flight then.
    const [left] = await sql<{ unpaid: string }>(
      `SELECT COUNT(*)::text AS unpaid FROM balance WHERE app_id = 'flood-app' AND boost_id IS NOT NULL AND owed_msat + in_flight_msat > 0`,
    );
    expect(Number(left!.unpaid)).toBeGreaterThan(FLOOD / 4);

    // A payout run asked for now runs (after the boost round in flight), never skipped for the boosts.
    const run = await stack.runPayout();
    expect(run.status).toBe('completed');
    expect(run.totals).toMatchObject({ succeeded: expect.any(Number) });
    expect((await stack.sim.payments()).filter((p) => p.destination === QUICK && p.blip10?.action === 'stream')).toHaveLength(1);

    await eventually(
      () => sql<{ unpaid: string }>(`SELECT COUNT(*)::text AS unpaid FROM balance WHERE boost_id IS NOT NULL AND owed_msat + in_flight_msat > 0`),
      (rows) => rows[0]!.unpaid === '0',
      30_000,
    );
    const toSlow = (await stack.sim.payments()).filter((p) => p.destination === SLOW);
    expect(toSlow).toHaveLength(FLOOD);
    expect(new Set(toSlow.map((p) => p.blip10?.boost_uuid)).size).toBe(FLOOD);
    // No run's note names an app or a boost: every app reads the runs.
    const notes = await sql<{ note: string | null }>(`SELECT note FROM payout WHERE note IS NOT NULL`);
    for (const { note } of notes) expect(note).not.toMatch(/flood|quick|test-app/);
    expect(await sql(`SELECT id FROM payout WHERE status = 'skipped'`)).toEqual([]);
    // An app lists the boost runs that paid its own boosts only: another app's tell it nothing.
    const quiet = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('quiet-app', [Scope.PayoutsRead])).key);
    const triggers = async (client: typeof quiet) => ((await client.get('/v1/payouts?limit=100')).body.payouts as { trigger: string }[]).map((p) => p.trigger);
    expect(await triggers(quiet)).not.toContain('boost');
    expect(await triggers(flooder)).toContain('boost');
    const [boostRun] = await sql<{ id: string }>(`SELECT id::text FROM payout WHERE trigger = 'boost' ORDER BY id LIMIT 1`);
    expect((await quiet.get(`/v1/payouts/${boostRun!.id}`)).status).toBe(404);
    expect((await flooder.get(`/v1/payouts/${boostRun!.id}`)).status).toBe(200);
    expect(await stack.invariant()).toMatchObject({ ok: true, problems: [] });
  });
});
