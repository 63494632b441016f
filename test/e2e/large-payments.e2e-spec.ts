import { ALL_SCOPES, ApiKeysService } from '@splitstream/auth';
import { PrismaService } from '@splitstream/persistence';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { apiClient } from '../support/http.js';
import { seedListening } from '../support/ledger-seed.js';
import { LN_DOMAIN, type Stack, startStack } from '../support/stack.js';

const ln = (user: string) => `${user}@${LN_DOMAIN}`;
// One minute of listening worth `sats` for one recipient, of episode `item`.
const listening = (id: string, sats: number, recipient: { type: 'node' | 'lnaddress'; address: string }, item = `item-${id}`) => ({
  id,
  feedGuid: 'feed-big',
  itemGuid: item,
  feedTitle: 'Big Show',
  itemTitle: `Episode ${item}`,
  position: 90,
  seconds: 60,
  satsPerMinute: sats,
  value: { type: 'lightning', method: recipient.type === 'node' ? 'keysend' : 'lnaddress', recipients: [{ name: 'Host', split: 1, ...recipient }] },
});

// Two apps share one service and one wallet: app B's huge balance (issue 20, point 1) and an address's minimum
// (point 7) must neither fail a run nor delay app A's payouts.
describe('large payments and per-address minimums, two apps (e2e)', () => {
  // Above 2^31 sats: a payment a 32-bit column cannot hold.
  const MAX_PAYMENT_SATS = 2_500_000_000;
  let stack: Stack;
  let appB: ReturnType<typeof apiClient>;
  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => query<T>(stack.config.DATABASE_URL, text, params);
  const recipientOf = async (client: ReturnType<typeof apiClient>, address: string) => {
    const res = await client.get(`/v1/recipients?${new URLSearchParams({ address })}`);
    return res.body.recipients[0];
  };
  const paymentsOf = async (client: ReturnType<typeof apiClient>, address: string) =>
    (await client.get(`/v1/payments?recipient=${(await recipientOf(client, address)).id}`)).body.keysends;
  const postAs = async (client: ReturnType<typeof apiClient>, events: object[]) => {
    const res = await client.post('/v1/events', { events });
    expect(res).toMatchObject({ status: 202, body: { rejected: 0, conflicts: 0 } });
    await stack.accumulated();
  };

  beforeAll(async () => {
    stack = await startStack({ MAX_PAYMENT_SATS: String(MAX_PAYMENT_SATS), KEYSEND_BATCH_SIZE: '4' });
    appB = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('app-b', ALL_SCOPES)).key);
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    await stack.sim.reset();
    await stack.sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000, balanceSats: 5_000_000_000 });
  });

  it('point 1: app B owes one node 3x10^9 sats; runs do not fail, B is paid in capped payments and app A on time', async () => {
    const attacked = pubkey(0xb1);
    // 500 events of 100,000 sats/min x 3600 s to one node, seeded as applied (intake caps refuse them at ingestion).
    await seedListening(stack.api.get(PrismaService), {
      appId: 'app-b',
      address: attacked,
      feedGuid: 'feed-attack',
      itemGuid: 'item-attack',
      events: 500,
      msatEach: 6_000_000_000n,
    });
    const nodeA = pubkey(0xa1);
    await stack.postEvents([listening('a-1', 100, { type: 'node', address: nodeA })]);
    await stack.accumulated();

    const run = await stack.runPayout();
    expect(run).toMatchObject({ status: 'completed', totals: { keysends: 3, succeeded: 3 } });
    const payments = await stack.sim.payments();
    expect(payments.filter((p) => p.destination === attacked).map((p) => p.amount)).toEqual([MAX_PAYMENT_SATS, 500_000_000]);
    expect(payments.filter((p) => p.destination === nodeA).map((p) => p.amount)).toEqual([100]);
    // Each capped payment its own reference (bLIP-10 uuid) and value_msat.
    const records = payments.filter((p) => p.destination === attacked).map((p) => p.blip10!);
    expect(records.map((r) => r.value_msat)).toEqual([2.5e12, 5e11]);
    expect(new Set(records.map((r) => r.uuid)).size).toBe(2);

    // Amounts keep their JSON types: sats as numbers, msat as decimal strings.
    expect((await paymentsOf(appB, attacked)).map((k: { amountSats: number }) => k.amountSats)).toEqual([500_000_000, MAX_PAYMENT_SATS]);
    expect(await recipientOf(appB, attacked)).toMatchObject({ paidMsat: '3000000000000', owedMsat: '0' });
    const statement = await appB.get(`/v1/recipients/${(await recipientOf(appB, attacked)).id}/statement`);
    expect(statement.body.totals).toMatchObject({ accruedMsat: '3000000000000', paidMsat: '3000000000000', owedMsat: '0' });
    expect(await recipientOf(stack.http, nodeA)).toMatchObject({ paidMsat: '100000', owedMsat: '0' });
    expect(await stack.invariant()).toMatchObject({ ok: true });

    // Later runs of every app go on.
    await stack.postEvents([listening('a-2', 7, { type: 'node', address: nodeA })]);
    await stack.accumulated();
    expect(await stack.runPayout()).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it('point 7: an address (minSendable 50 sats) owed 3 x 20 sats over 3 episodes by app B is paid once, by one invoice naming them', async () => {
    await stack.sim.lnaddress.setUser('mini', { minSendable: 50_000, maxSendable: 100_000_000, commentAllowed: 255 });
    const mini = { type: 'lnaddress' as const, address: ln('mini') };
    const nodeA = pubkey(0xa2);

    // Two episodes: 40 sats, below the minimum: nothing is sent, the money stays owed; app A is paid.
    await postAs(appB, [listening('m-1', 20, mini), listening('m-2', 20, mini)]);
    await stack.postEvents([listening('a-3', 30, { type: 'node', address: nodeA })]);
    await stack.accumulated();
    await stack.resolveAddresses();
    expect(await stack.runPayout()).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    expect(await stack.sim.lnaddress.invoices()).toEqual([]);
    expect(await recipientOf(appB, ln('mini'))).toMatchObject({
      owedMsat: '40000',
      paidMsat: '0',
      waiting: { code: 'below_min_sendable', message: "waits until the address's minimum of 50 sats is reached; owed 40000 msat" },
    });
    // What the recipient's `waiting` reason is made of: the route's minimum, and what the app owes the address.
    expect(
      await sql(
        `SELECT lr.min_sendable_msat::text AS min, SUM(b.owed_msat)::text AS owed FROM recipient r
         JOIN lnaddress_route lr ON lr.address = r.address JOIN balance b ON b.recipient_id = r.id
         WHERE r.address = $1 AND b.app_id = 'app-b' GROUP BY lr.min_sendable_msat`,
        [ln('mini')],
      ),
    ).toEqual([{ min: '50000', owed: '40000' }]);
    expect(await recipientOf(stack.http, nodeA)).toMatchObject({ paidMsat: '30000' });

    // A third episode: 60 sats reach the minimum: one invoice for all three.
    await postAs(appB, [listening('m-3', 20, mini)]);
    const run = await stack.runPayout();
    expect(run).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    const invoices = await stack.sim.lnaddress.invoices();
    expect(invoices.map((i) => [i.user, i.msat])).toEqual([['mini', '60000']]);
    expect(invoices[0]!.comment).toMatch(/^stream 60 sats · 3 episodes: Episode item-m-1, Episode item-m-2, Episode item-m-3( · via .+)?$/);
    expect((await stack.sim.payments()).filter((p) => p.kind === 'bolt11').map((p) => p.amount)).toEqual([60]);

    const [payment] = await paymentsOf(appB, ln('mini'));
    expect(payment).toMatchObject({ method: 'invoice', status: 'succeeded', amountSats: 60, invoice: invoices[0]!.invoice });
    expect(payment.parts.map((p: { itemGuid: string; amountMsat: string }) => [p.itemGuid, p.amountMsat])).toEqual([
      ['item-m-1', '20000'],
      ['item-m-2', '20000'],
      ['item-m-3', '20000'],
    ]);
    // Every msat on its episode: the statement per episode, and each event linked to the one payment.
    const statement = await appB.get(`/v1/recipients/${(await recipientOf(appB, ln('mini'))).id}/statement`);
    expect(statement.body.episodes.map((e: { itemGuid: string; paidMsat: string; owedMsat: string }) => [e.itemGuid, e.paidMsat, e.owedMsat])).toEqual([
      ['item-m-1', '20000', '0'],
      ['item-m-2', '20000', '0'],
      ['item-m-3', '20000', '0'],
    ]);
    expect(statement.body.keysends.map((k: { id: string; itemGuid: string; amountMsat: string }) => [k.id, k.itemGuid, k.amountMsat])).toEqual([
      [payment.id, 'item-m-1', '20000'],
      [payment.id, 'item-m-2', '20000'],
      [payment.id, 'item-m-3', '20000'],
    ]);
    for (const id of ['m-1', 'm-2', 'm-3']) {
      expect((await appB.get(`/v1/events/${id}`)).body.allocations).toEqual([expect.objectContaining({ amountMsat: '20000', paymentId: payment.id })]);
    }
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it("maxSendable splits an address's balance into several invoices in one run", async () => {
    await stack.sim.lnaddress.setUser('capped', { minSendable: 1_000, maxSendable: 30_000, commentAllowed: 0 });
    await postAs(appB, [listening('c-1', 100, { type: 'lnaddress', address: ln('capped') })]);
    await stack.resolveAddresses();
    expect(await stack.runPayout()).toMatchObject({ status: 'completed', totals: { keysends: 4, succeeded: 4 } });
    expect((await stack.sim.lnaddress.invoices()).map((i) => i.msat)).toEqual(['30000', '30000', '30000', '10000']);
    expect(await recipientOf(appB, ln('capped'))).toMatchObject({ paidMsat: '100000', owedMsat: '0' });
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it("point 7, admin view: the minimum applies to each app's owed on its own, so the total of two apps does not say it is paid", async () => {
    await stack.sim.lnaddress.setUser('duo', { minSendable: 50_000, maxSendable: 100_000_000, commentAllowed: 255 });
    const duo = { type: 'lnaddress' as const, address: ln('duo') };
    const view = async () => {
      const r = await stack.recipient(ln('duo'));
      return {
        owedMsat: r.body.owedMsat,
        waiting: r.body.waiting,
        apps: r.body.apps.map((a: { app: string; owedMsat: string; waiting: { code: string } | null }) => [a.app, a.owedMsat, a.waiting?.code ?? null]),
      };
    };
    // B owes 40 sats and A 30: 70 in all, yet neither app's owed reaches 50, and a run pays nothing.
    await postAs(appB, [listening('d-1', 40, duo)]);
    await postAs(stack.http, [listening('d-2', 30, duo)]);
    await stack.resolveAddresses();
    expect(await stack.runPayout()).toMatchObject({ status: 'completed', totals: { keysends: 0 } });
    expect(await view()).toEqual({
      owedMsat: '70000',
      waiting: {
        code: 'below_min_sendable',
        message: "waits until one app's owed reaches the address's minimum of 50 sats; the most one app owes is 40000 msat",
      },
      apps: [
        ['app-b', '40000', 'below_min_sendable'],
        ['test-app', '30000', 'below_min_sendable'],
      ],
    });
    // B's owed reaches the minimum: the top level no longer waits, A's entry still does, and the run pays B alone.
    await postAs(appB, [listening('d-3', 20, duo)]);
    expect(await view()).toEqual({
      owedMsat: '90000',
      waiting: null,
      apps: [
        ['app-b', '60000', null],
        ['test-app', '30000', 'below_min_sendable'],
      ],
    });
    expect(await stack.runPayout()).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    expect((await stack.sim.lnaddress.invoices()).map((i) => [i.user, i.msat])).toEqual([['duo', '60000']]);
    expect((await view()).apps).toEqual([
      ['app-b', '0', null],
      ['test-app', '30000', 'below_min_sendable'],
    ]);
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });
});
