import { createHash } from 'node:crypto';
import bolt11 from 'bolt11';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { SIM_PAYEE_PUBKEY } from '@splitstream/lightning-sim';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { request } from '../support/http.js';
import { type Nwc, startNwc } from '../support/nwc-sim.js';
import { DEAD_LN_DOMAIN, LN_DOMAIN, type Stack, startStack } from '../support/stack.js';

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
const ln = (user: string) => `${user}@${LN_DOMAIN}`;
const lnaddress = (name: string, address: string, split: number) => ({ name, type: 'lnaddress', address, split });
const node = (name: string, address: string, split: number) => ({ name, type: 'node', address, split });
// One minute of listening worth `sats`, shared by `recipients`.
const listening = (id: string, sats: number, recipients: object[], itemGuid = `item-${id}`) => ({
  id,
  feedGuid: 'feed-ln',
  itemGuid,
  feedTitle: 'Address Show',
  itemTitle: `Episode ${id}`,
  position: 90,
  seconds: 60,
  satsPerMinute: sats,
  appName: 'TestApp',
  value: { type: 'lightning', method: 'lnaddress', recipients },
});

// Lightning-address recipients over real HTTP: the simulator is the addresses' domain (LNADDRESS_HOST_MAP) and
// the wallet, PostgreSQL and Redis are real.
describe('Lightning-address recipients (e2e, Alby rail)', () => {
  let stack: Stack;
  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => query<T>(stack.config.DATABASE_URL, text, params);
  const recipient = async (address: string) => (await stack.recipient(address)).body;
  const keysendsOf = async (address: string) => (await stack.http.get(`/v1/keysends?recipient=${(await recipient(address)).id}`)).body.keysends;
  // Resolution is the worker's job, never the run's: each payment here follows one resolution pass.
  const pay = async (events: object[]) => {
    await stack.postEvents(events);
    await stack.accumulated();
    await stack.resolveAddresses();
    return stack.runPayout();
  };
  const wellKnownRequests = async (user: string) =>
    (await stack.sim.lnaddress.requests()).filter((r) => r.path.startsWith('/.well-known/') && r.path.endsWith(`/${user}`));

  beforeAll(async () => {
    stack = await startStack({
      RETRY_BASE_SECONDS: '1',
      RETRY_MAX_SECONDS: '1',
      MAX_ATTEMPTS: '2',
      KEYSEND_BATCH_SIZE: '4',
      LNADDRESS_CACHE_SECONDS: '6',
      // The dead domain's breaker is the subject of lnaddress-resolution.e2e-spec.ts, not of these tests.
      LNADDRESS_BREAKER_FAILURES: '1000',
      ALBY_TIMEOUT_MS: '1000',
    });
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    await stack.sim.reset();
    await stack.sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000 });
  });

  // First: no address owed before it is resolved again by its resolution pass.
  it('counts resolutions and invoices for operators (worker /metrics)', async () => {
    const counts = async () => {
      const metrics = await (await fetch(stack.workerMetricsUrl!)).text();
      const count = (labels: string) =>
        Number(
          metrics
            .split('\n')
            .find((l) => l.startsWith(`splitstream_lnaddress_total{${labels}} `))
            ?.split(' ')[1] ?? 0,
        );
      return ['resolve",outcome="keysend', 'resolve",outcome="lnurlp', 'resolve",outcome="failed', 'invoice",outcome="obtained'].map((l) =>
        count(`step="${l}"`),
      );
    };
    const before = await counts();
    await stack.sim.lnaddress.setUser('mkim', { keysend: { pubkey: pubkey(0x740) } });
    await pay([listening('metrics-1', 30, [lnaddress('K', ln('mkim'), 1), lnaddress('L', ln('mlara'), 1), lnaddress('G', `mghost@${DEAD_LN_DOMAIN}`, 1)])]);
    const after = await counts();
    expect(after.map((n, i) => n - before[i]!)).toEqual([1, 1, 1, 1]);
  });

  it('refuses a malformed Lightning Address at ingestion, naming it, and stores nothing', async () => {
    const res = await stack.http.post('/v1/events', { events: [listening('bad-1', 10, [lnaddress('X', 'kim@10.0.0.1', 1)])] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: 'events_rejected',
      issues: [
        { index: 0, code: 'invalid_request', path: 'events[0].value.recipients[0].address', message: 'the domain must be a host name, not an IP address' },
      ],
    });
    expect(await sql('SELECT id FROM listening_event WHERE event_id = $1', ['bad-1'])).toEqual([]);
  });

  it('pays an address that offers keysend by keysend to its node, with its custom data as TLVs beside bLIP-10', async () => {
    const kimNode = pubkey(0x701);
    await stack.sim.lnaddress.setUser('kim', { keysend: { pubkey: kimNode, customData: [{ customKey: '696969', customValue: 'kim-wallet' }] } });
    const run = await pay([listening('ks-1', 100, [node('Host', pubkey(0x700), 50), lnaddress('Kim', 'Kim@Pods.test', 50)])]);
    expect(run).toMatchObject({ status: 'completed', totals: { keysends: 2, succeeded: 2 } });

    const payments = await stack.sim.payments();
    const toKim = payments.find((p) => p.destination === kimNode)!;
    expect(toKim).toMatchObject({ kind: 'keysend', amount: 50 });
    expect(toKim.customRecords['696969']).toBe('kim-wallet');
    expect(toKim.blip10).toMatchObject({ name: 'Kim', value_msat: 50_000, podcast: 'Address Show', app_name: 'test-app' }); // the app's id (no name registered), never the event's appName
    expect(payments.find((p) => p.destination === pubkey(0x700))).toMatchObject({ amount: 50 });
    // The keysend endpoint answered: LNURL-pay was never asked.
    expect((await wellKnownRequests('kim')).map((r) => r.path)).toEqual(['/.well-known/keysend/kim']);

    expect(await recipient(ln('kim'))).toMatchObject({ type: 'lnaddress', address: ln('kim'), paidMsat: '50000', owedMsat: '0' });
    expect(await keysendsOf(ln('kim'))).toEqual([
      expect.objectContaining({
        method: 'keysend',
        destination: kimNode,
        invoice: null,
        status: 'succeeded',
        amountSats: 50,
        recipient: expect.objectContaining({ type: 'lnaddress' }),
      }),
    ]);
  });

  it('pays an LNURL-pay address an invoice for exactly what it is owed, the bLIP-10 summary as comment, hash stored before paying', async () => {
    await stack.sim.lnaddress.setUser('lena', { commentAllowed: 40 });
    const run = await pay([listening('lnurl-1', 21, [lnaddress('Lara', ln('lara'), 1)]), listening('lnurl-2', 33, [lnaddress('Lena', ln('lena'), 1)])]);
    expect(run).toMatchObject({ status: 'completed', totals: { keysends: 2, succeeded: 2 } });

    const invoices = await stack.sim.lnaddress.invoices();
    const lara = invoices.find((i) => i.user === 'lara')!;
    const lena = invoices.find((i) => i.user === 'lena')!;
    expect(lara.msat).toBe('21000');
    expect(bolt11.decode(lara.invoice).millisatoshis).toBe('21000');
    expect(lara.comment).toMatch(/^stream 21 sats · Address Show · Episode lnurl-1 · at 90 s · via test-app · uuid [0-9a-f-]{36}$/);
    expect(lena.msat).toBe('33000');
    expect([...lena.comment!]).toHaveLength(40); // cut to the address's commentAllowed

    const [keysend] = await keysendsOf(ln('lara'));
    expect(keysend).toMatchObject({
      method: 'invoice',
      destination: null,
      invoice: lara.invoice,
      paymentHash: lara.paymentHash,
      status: 'succeeded',
      amountSats: 21,
    });
    expect(lara.comment).toContain(keysend.reference);
    const [row] = await sql<{ preimage: string }>('SELECT preimage FROM payment WHERE id = $1', [keysend.id]);
    expect(sha256(row!.preimage)).toBe(lara.paymentHash);
    const payments = await stack.sim.payments();
    expect(
      payments
        .filter((p) => p.kind === 'bolt11')
        .map((p) => [p.paymentHash, p.amount, p.destination])
        .sort(),
    ).toEqual(
      [
        [lara.paymentHash, 21, SIM_PAYEE_PUBKEY],
        [lena.paymentHash, 33, SIM_PAYEE_PUBKEY],
      ].sort(),
    );

    const statement = (await stack.http.get(`/v1/recipients/${(await recipient(ln('lara'))).id}/statement`)).body;
    expect(statement).toMatchObject({ recipient: { type: 'lnaddress', address: ln('lara') }, totals: { paidMsat: '21000', owedMsat: '0' } });
    expect(statement.keysends).toEqual([
      expect.objectContaining({ method: 'invoice', paymentHash: lara.paymentHash, amountMsat: '21000', status: 'succeeded' }),
    ]);
  });

  it("keeps money below an address's minSendable owed, and pays it once it has grown past the minimum", async () => {
    await stack.sim.lnaddress.setUser('mina', { minSendable: 50_000, maxSendable: 1_000_000, commentAllowed: 0 });
    const first = await pay([listening('min-1', 30, [lnaddress('Mina', ln('mina'), 1)])]);
    expect(first).toMatchObject({ status: 'completed', totals: { keysends: 0 } });
    expect(await recipient(ln('mina'))).toMatchObject({
      state: 'active',
      owedMsat: '30000',
      paidMsat: '0',
      lastErrorCode: null,
      waiting: { code: 'below_min_sendable', message: "waits until the address's minimum of 50 sats is reached; owed 30000 msat" },
    });
    expect(await stack.sim.lnaddress.invoices()).toEqual([]);

    const second = await pay([listening('min-2', 30, [lnaddress('Mina', ln('mina'), 1)], 'item-min-1')]);
    expect(second).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    const [invoice] = await stack.sim.lnaddress.invoices();
    expect(invoice).toMatchObject({ user: 'mina', msat: '60000', comment: null });
    expect(await recipient(ln('mina'))).toMatchObject({ owedMsat: '0', paidMsat: '60000', waiting: null });
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it("keeps a dead domain's address owed, never failing its recipient, saying why it waits, while the event's other recipients are paid", async () => {
    const ghost = `ghost@${DEAD_LN_DOMAIN}`;
    const first = await pay([listening('dead-1', 100, [node('Host', pubkey(0x710), 1), lnaddress('Ghost', ghost, 1)])]);
    expect(first).toMatchObject({ totals: { keysends: 1, succeeded: 1 } });
    const waiting = { code: 'lnaddress_unreachable', message: "the address could not be resolved: the address's domain could not be reached" };
    // Apps read the reason in words; the transport error (ECONNREFUSED at 127.0.0.1:9) is for the worker's log and
    // admins: the stack's key is an admin's, an app's own key does not get the detail.
    const asAdmin = await recipient(ghost);
    expect(asAdmin).toMatchObject({ state: 'active', consecutiveFailures: 0, lastErrorCode: null, owedMsat: '50000', waiting });
    expect(asAdmin.waiting.detail).toMatch(/ECONNREFUSED/);
    const { key: appKey } = await stack.api.get(ApiKeysService).create('test-app', [Scope.PayoutsRead]);
    const asApp = await request(stack.baseUrl, `/v1/recipients?address=${encodeURIComponent(ghost)}`, { headers: { authorization: `Bearer ${appKey}` } });
    expect(asApp.body.recipients[0]).toMatchObject({ lastErrorCode: null, waiting });
    expect(asApp.body.recipients[0].waiting).not.toHaveProperty('detail');
    expect(JSON.stringify(asApp.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);

    // Resolved again by every pass while owed, never parked: the money waits for the address, not for an operator.
    await stack.resolveAddresses();
    expect(await stack.runPayout()).toMatchObject({ totals: { keysends: 0 } });
    expect(await recipient(ghost)).toMatchObject({ state: 'active', parked: false, consecutiveFailures: 0, owedMsat: '50000', parkedMsat: '0', waiting });
    expect((await stack.sim.payments()).map((p) => p.destination)).toEqual([pubkey(0x710)]);
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it('pays an address whose commentAllowed is 4096 (LUD-12 sets no maximum) with the whole bLIP-10 summary as comment', async () => {
    await stack.sim.lnaddress.setUser('wordy', { commentAllowed: 4096 });
    const run = await pay([listening('wordy-1', 10, [lnaddress('Wordy', ln('wordy'), 1)])]);
    expect(run).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    const [issued] = await stack.sim.lnaddress.invoices();
    expect(issued!.comment).toMatch(/^stream 10 sats · Address Show · Episode wordy-1 · at 90 s · via test-app · uuid [0-9a-f-]{36}$/);
    expect(await recipient(ln('wordy'))).toMatchObject({ paidMsat: '10000', lastErrorCode: null });
  });

  it('refuses an address whose domain redirects to another port (same host): lnaddress_refused, nothing asked there', async () => {
    // The api's port on the same host as the simulator: another origin.
    await stack.sim.lnaddress.setUser('hop', { redirectTo: `${stack.baseUrl}/.well-known/lnurlp/hop` });
    expect(new URL(stack.baseUrl).hostname).toBe(new URL(stack.sim.url).hostname);
    await pay([listening('hop-1', 10, [lnaddress('Hop', ln('hop'), 1)])]);
    expect(await recipient(ln('hop'))).toMatchObject({
      state: 'active',
      lastErrorCode: null,
      waiting: { code: 'lnaddress_refused', message: "the address could not be resolved: the address's domain gave no usable way to pay it" },
      owedMsat: '10000',
    });
    expect(await stack.sim.lnaddress.invoices()).toEqual([]);

    // Once the domain gives a usable answer and the address's backoff (one resolution interval, an hour here) has
    // passed, the next resolution pass has a route and the next run pays it.
    await stack.sim.lnaddress.setUser('hop', {});
    expect(await stack.resolveAddresses()).toMatchObject({ resolved: 0, failed: 0 });
    await query(stack.config.DATABASE_URL, "UPDATE lnaddress_failure SET failed_at = now() - interval '1 hour' WHERE address = $1", [ln('hop')]);
    expect(await stack.resolveAddresses()).toMatchObject({ resolved: 1 });
    expect(await stack.runPayout()).toMatchObject({ totals: { keysends: 1, succeeded: 1 } });
    expect(await recipient(ln('hop'))).toMatchObject({ owedMsat: '0', paidMsat: '10000', waiting: null });
  });

  it.each([
    ['wrong amount', 'wamt', { invoiceMsatDelta: 1_000 }, /it is for 11000 msat, not the 10000 msat asked for/],
    ['wrong description hash', 'whash', { wrongDescriptionHash: true }, /description hash is not the hash of the address's metadata/],
    ['expiring at once', 'wexp', { invoiceExpirySeconds: 5 }, /too soon to pay/],
    [
      'min_final_cltv_expiry above the bound',
      'wcltv',
      { minFinalCltvExpiry: 4000 },
      /it asks for a min_final_cltv_expiry of 4000 blocks, more than the 144 accepted/,
    ],
    ['description hash missing', 'wnohash', { noDescriptionHash: true }, /it carries no description hash; LUD-06 requires the hash of the address's metadata/],
  ])(
    'refuses an invoice with the %s: nothing is paid, the money is owed again and paid once the invoice is right',
    async (_what, user, misbehaviour, message) => {
      await stack.sim.lnaddress.setUser(user, misbehaviour);
      const run = await pay([listening(`bad-invoice-${user}`, 10, [lnaddress('Bad', ln(user), 1)])]);
      // Never sent: cancelled (not failed, which only a sent payment can be), and the recipient's failure all the same.
      expect(run).toMatchObject({ totals: { keysends: 1, cancelled: 1, failed: 0, succeeded: 0 } });
      const [keysend] = await keysendsOf(ln(user));
      expect(keysend).toMatchObject({ method: 'invoice', status: 'cancelled', lastErrorCode: 'invoice_refused', invoice: null, paymentHash: null });
      expect(keysend.lastErrorMessage).toMatch(message);
      expect(await stack.sim.lnaddress.invoices()).toHaveLength(1); // one was issued, and refused
      expect(await stack.sim.payments()).toEqual([]);
      expect(await recipient(ln(user))).toMatchObject({
        state: 'backing_off',
        owedMsat: '10000',
        inFlightMsat: '0',
        paidMsat: '0',
        lastErrorCode: 'invoice_refused',
      });

      await stack.sim.lnaddress.setUser(user, {});
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await stack.runPayout()).toMatchObject({ totals: { keysends: 1, succeeded: 1 } });
      expect(await recipient(ln(user))).toMatchObject({ state: 'active', owedMsat: '0', paidMsat: '10000', lastErrorCode: null });
    },
  );

  it('sends no invoice payment without its invoice when several in one chunk are refused: the others are paid in the same run', async () => {
    await stack.sim.lnaddress.setUser('ra', { noDescriptionHash: true });
    await stack.sim.lnaddress.setUser('rb', { invoiceMsatDelta: 1_000 });
    const run = await pay([
      listening('several-refused', 40, [lnaddress('A', ln('ra'), 1), lnaddress('B', ln('rb'), 1), lnaddress('C', ln('rc'), 1), lnaddress('D', ln('rd'), 1)]),
    ]);
    expect(run).toMatchObject({ totals: { keysends: 4, succeeded: 2, cancelled: 2, failed: 0 } });
    const paid = await stack.sim.payments();
    expect(paid).toHaveLength(2);
    for (const user of ['ra', 'rb']) expect((await keysendsOf(ln(user)))[0]).toMatchObject({ status: 'cancelled', lastErrorCode: 'invoice_refused' });
    for (const user of ['rc', 'rd']) expect((await keysendsOf(ln(user)))[0]).toMatchObject({ status: 'succeeded', invoice: expect.stringMatching(/^lnbc/) });
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it('reconciles an invoice payment whose answer was lost by its payment hash, stored before paying: paid once', async () => {
    await stack.sim.setRule(SIM_PAYEE_PUBKEY, { hang: true });
    const run = await pay([listening('lost-1', 12, [lnaddress('Ulla', ln('ulla'), 1)])]);
    expect(run).toMatchObject({ totals: { keysends: 1, unknown: 1 } });
    const [issued] = await stack.sim.lnaddress.invoices();
    const [unknown] = await keysendsOf(ln('ulla'));
    expect(unknown).toMatchObject({ method: 'invoice', status: 'unknown', paymentHash: issued!.paymentHash, invoice: issued!.invoice });
    const metrics = await (await fetch(stack.workerMetricsUrl!)).text();
    expect(metrics).toMatch(/^splitstream_unknown_msat 12000$/m);
    expect(metrics).toMatch(/^splitstream_unknown_keysends 1$/m);

    await stack.sim.clearRule(SIM_PAYEE_PUBKEY);
    expect((await stack.http.post('/v1/keysends/reconcile', {})).body).toMatchObject({ checked: 1, paid: 1 });
    expect((await keysendsOf(ln('ulla')))[0]).toMatchObject({ status: 'succeeded', paymentHash: issued!.paymentHash });
    expect(await recipient(ln('ulla'))).toMatchObject({ paidMsat: '12000', inFlightMsat: '0' });
    expect((await stack.sim.payments()).filter((p) => p.paymentHash === issued!.paymentHash)).toHaveLength(1);
  });

  it('uses a cached resolution until it nears its expiry, then asks the domain again (and follows what it says now)', async () => {
    await pay([listening('cache-1', 10, [lnaddress('Cora', ln('cora'), 1)])]);
    await pay([listening('cache-2', 10, [lnaddress('Cora', ln('cora'), 1)])]);
    // Two invoice payments, one resolution (the second pass found its route fresh): keysend (404) and LNURL-pay asked once.
    expect((await wellKnownRequests('cora')).map((r) => r.path)).toEqual(['/.well-known/keysend/cora', '/.well-known/lnurlp/cora']);
    expect((await stack.sim.lnaddress.invoices()).filter((i) => i.user === 'cora')).toHaveLength(2);

    // The address now offers keysend; once the cached LNURL-pay resolution is near its expiry (6 s, refreshed in
    // its last 3 s) it is resolved again and paid by keysend.
    await stack.sim.lnaddress.setUser('cora', { keysend: { pubkey: pubkey(0x720) } });
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    await pay([listening('cache-3', 10, [lnaddress('Cora', ln('cora'), 1)])]);
    expect((await wellKnownRequests('cora')).map((r) => r.path)).toEqual([
      '/.well-known/keysend/cora',
      '/.well-known/lnurlp/cora',
      '/.well-known/keysend/cora',
    ]);
    expect((await keysendsOf(ln('cora'))).map((k: { method: string; destination: string | null }) => [k.method, k.destination])).toEqual([
      ['keysend', pubkey(0x720)],
      ['invoice', null],
      ['invoice', null],
    ]);
    expect(await recipient(ln('cora'))).toMatchObject({ paidMsat: '30000', owedMsat: '0' });
  });
});

// The outbound guard as deployed by default (OUTBOUND_ALLOW_PRIVATE unset): the simulator's domain is on 127.0.0.1,
// so no Lightning address there is ever called, and the recipient learns only the coded reason.
describe('Lightning-address recipients with the outbound guard on (e2e, default mode)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ OUTBOUND_ALLOW_PRIVATE: 'false', MAX_ATTEMPTS: '2' });
  });
  afterAll(() => stack.close());

  it('refuses an address whose domain is a private address before any connection, telling apps only the coded reason', async () => {
    expect(stack.config.OUTBOUND_ALLOW_PRIVATE).toBe(false);
    await stack.postEvents([listening('guard-1', 20, [node('Host', pubkey(0x750), 1), lnaddress('Priv', ln('priv'), 1)])]);
    await stack.accumulated();
    await stack.resolveAddresses();
    expect(await stack.runPayout()).toMatchObject({ totals: { keysends: 1, succeeded: 1 } });
    const priv = (await stack.recipient(ln('priv'))).body;
    expect(priv).toMatchObject({
      state: 'active',
      waiting: { code: 'lnaddress_unreachable', message: "the address could not be resolved: the address's domain could not be reached" },
      owedMsat: '10000',
    });
    expect(priv.waiting.message).not.toMatch(/127\.0\.0\.1|global unicast|ECONN/);
    expect(await stack.sim.lnaddress.requests()).toEqual([]); // never called
  });
});

describe('Lightning-address recipients over Nostr Wallet Connect (e2e)', () => {
  let nwc: Nwc;
  let stack: Stack;

  beforeAll(async () => {
    nwc = await startNwc();
    stack = await startStack({ ...nwc.overrides, KEYSEND_BATCH_SIZE: '4' });
  });
  afterAll(async () => {
    await stack.close();
    await nwc.close();
  });

  it("pays keysend addresses with the address's TLVs and LNURL-pay invoices with pay_invoice, the bLIP-10 record as metadata", async () => {
    const nodeOfKim = pubkey(0x731);
    await stack.sim.lnaddress.setUser('nkim', { keysend: { pubkey: nodeOfKim, customData: [{ customKey: '696969', customValue: 'nkim-wallet' }] } });
    await stack.postEvents([listening('nwc-1', 100, [lnaddress('Kim', ln('nkim'), 60), lnaddress('Lara', ln('nlara'), 40)])]);
    await stack.accumulated();
    await stack.resolveAddresses();
    const run = await stack.runPayout();
    expect(run).toMatchObject({ status: 'completed', totals: { keysends: 2, succeeded: 2 } });

    const settled = nwc.wallet.transactions.filter((t) => t.state === 'settled');
    const keysend = settled.find((t) => t.metadata.pubkey === nodeOfKim)!;
    expect(keysend.amount).toBe(60_000);
    const tlv = Object.fromEntries(keysend.metadata.tlv_records!.map((r) => [String(r.type), Buffer.from(r.value, 'hex').toString('utf8')]));
    expect(tlv['696969']).toBe('nkim-wallet');
    expect(JSON.parse(tlv['7629169']!)).toMatchObject({ name: 'Kim', value_msat: 60_000 });

    const [issued] = await stack.sim.lnaddress.invoices();
    const invoicePayment = settled.find((t) => t.invoice === issued!.invoice)!;
    expect(invoicePayment).toMatchObject({ amount: 40_000, payment_hash: issued!.paymentHash, metadata: { blip10: { name: 'Lara', value_msat: 40_000 } } });
    expect(nwc.wallet.requests.filter((r) => r.method === 'pay_invoice')).toHaveLength(1);
    const rows = await query<{ method: string; payment_hash: string; preimage: string }>(
      stack.config.DATABASE_URL,
      'SELECT method, payment_hash, preimage FROM payment ORDER BY method',
    );
    for (const row of rows) expect(sha256(row.preimage)).toBe(row.payment_hash);
    expect(rows.find((r) => r.method === 'invoice')!.payment_hash).toBe(issued!.paymentHash);
    expect(await stack.invariant()).toMatchObject({ ok: true, paidMsat: '100000' });
  });

  it('reconciles an invoice payment the wallet made but never answered, with lookup_invoice by its payment hash', async () => {
    nwc.wallet.setRule(SIM_PAYEE_PUBKEY, { hang: true });
    await stack.postEvents([listening('nwc-lost', 15, [lnaddress('Nora', ln('nnora'), 1)])]);
    await stack.accumulated();
    await stack.resolveAddresses();
    expect(await stack.runPayout()).toMatchObject({ totals: { keysends: 1, unknown: 1 } });
    nwc.wallet.clearRule(SIM_PAYEE_PUBKEY);
    const issued = (await stack.sim.lnaddress.invoices()).find((i) => i.user === 'nnora')!;
    expect((await stack.http.post('/v1/keysends/reconcile', {})).body).toMatchObject({ checked: 1, paid: 1 });
    const rows = await query<{ status: string; payment_hash: string; preimage: string }>(
      stack.config.DATABASE_URL,
      'SELECT status, payment_hash, preimage FROM payment WHERE invoice = $1',
      [issued.invoice],
    );
    expect(rows).toEqual([{ status: 'succeeded', payment_hash: issued.paymentHash, preimage: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(sha256(rows[0]!.preimage)).toBe(issued.paymentHash);
    expect(nwc.wallet.transactions.filter((t) => t.payment_hash === issued.paymentHash)).toHaveLength(1);
  });
});
