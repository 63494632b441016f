import { SIM_PAYEE_PUBKEY } from '@splitstream/lightning-sim';
import { ALL_SCOPES, ApiKeysService, Scope } from '@splitstream/auth';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { RECONCILE_LOCK, SessionLock } from '../../libs/payouts/src/store/session-lock.js';
import { apiClient } from '../support/http.js';
import { LN_DOMAIN, type Stack, startStack } from '../support/stack.js';

// One minute of listening at 60 sats a minute, all to one recipient: 60000 msat.
const event = (id: string, recipient: { type: string; address: string }) => ({
  id,
  feedGuid: 'feed-verdicts',
  itemGuid: `item-${id}`,
  position: 0,
  seconds: 60,
  satsPerMinute: 60,
  value: { type: 'lightning', method: recipient.type === 'node' ? 'keysend' : 'lnaddress', recipients: [{ name: `R-${id}`, split: 1, ...recipient }] },
});
const node = (address: string) => ({ type: 'node', address });

// Verdicts on unknown payments over the real api, worker, PostgreSQL, Redis and the Alby simulator: marking one
// not paid without evidence is an admin's explicit override (confirmed, with a reason), refused otherwise with
// nothing changed; every verdict is recorded and shown with the payment (who, when, why, on what evidence).
describe('verdicts on unknown payments (e2e)', () => {
  let stack: Stack;
  let keys: ApiKeysService;
  const as = (key: string) => apiClient(stack.baseUrl, key);
  // A keysend that was sent and paid but whose answer was lost: unknown, its money in flight.
  const unknownKeysend = async (address: string, id: string) => {
    await stack.postEvents([event(id, node(address))]);
    await stack.accumulated();
    await stack.sim.setRule(address, { hang: true });
    const run = await stack.runPayout();
    await stack.sim.clearRule(address);
    const payment = run.keysends.find((k: { recipient: { address: string } }) => k.recipient.address === address);
    expect(payment).toMatchObject({ status: 'unknown', verdicts: [], lastCheck: null });
    return payment.id as string;
  };
  // Nothing changed: still unknown, no verdict, its money still in flight, the books balance.
  const unchanged = async (id: string, address: string) => {
    expect((await stack.http.get(`/v1/payments/${id}`)).body).toMatchObject({ status: 'unknown', verdicts: [], resolvedBy: null });
    expect((await stack.recipient(address)).body).toMatchObject({ inFlightMsat: '60000', owedMsat: '0', paidMsat: '0' });
    expect(await stack.invariant()).toMatchObject({ ok: true, problems: [] });
  };

  beforeAll(async () => {
    stack = await startStack({ ALBY_TIMEOUT_MS: '1000', KEYSEND_BATCH_SIZE: '4' });
    keys = stack.api.get(ApiKeysService);
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    await stack.sim.reset();
    await stack.sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000 });
  });

  it('refuses an override from a key of the payment app that is not an admin (403), and changes nothing', async () => {
    const address = pubkey(0x7e01);
    const id = await unknownKeysend(address, 'v-non-admin');
    const { key } = await keys.create('test-app', [Scope.PayoutsRead, Scope.PayoutsWrite]);
    const override = { outcome: 'failed', confirm: true, reason: 'the recipient says nothing arrived' };
    for (const path of [`/v1/payments/${id}/resolve`, `/v1/keysends/${id}/resolve`]) {
      const refused = await as(key).post(path, override);
      expect(refused).toMatchObject({ status: 403, body: { error: 'forbidden', message: expect.stringContaining('only an admin key') } });
      expect(refused.body.message).toContain('/check');
    }
    await unchanged(id, address);
  });

  it('refuses an override while a reconciliation runs (409: it may be sending the payment again), and takes it after', async () => {
    const address = pubkey(0x7e05);
    const id = await unknownKeysend(address, 'v-busy');
    const override = { outcome: 'failed', confirm: true, reason: 'the recipient says nothing arrived' };
    const reconciling = (await SessionLock.tryAcquire(stack.config.DATABASE_URL, RECONCILE_LOCK))!;
    try {
      const busy = await stack.http.post(`/v1/payments/${id}/resolve`, override);
      expect(busy).toMatchObject({ status: 409, body: { error: 'conflict', message: expect.stringContaining('a reconciliation is running') } });
      await unchanged(id, address);
    } finally {
      await reconciling.release();
    }
    expect((await stack.http.post(`/v1/payments/${id}/resolve`, override)).body).toMatchObject({ status: 'failed' });
  });

  it('refuses an admin override without confirm: true or without a reason (400), and changes nothing', async () => {
    const address = pubkey(0x7e02);
    const id = await unknownKeysend(address, 'v-unconfirmed');
    const bodies = [
      { outcome: 'failed' },
      { outcome: 'failed', reason: 'the recipient says nothing arrived' },
      { outcome: 'failed', confirm: false, reason: 'the recipient says nothing arrived' },
      { outcome: 'failed', confirm: 'yes', reason: 'the recipient says nothing arrived' },
      { outcome: 'failed', confirm: true },
      { outcome: 'failed', confirm: true, reason: '   ' },
      { outcome: 'failed', confirm: true, reason: 'too short' },
      { outcome: 'failed', confirm: true, reason: 'x'.repeat(501) },
    ];
    for (const body of bodies) {
      const res = await stack.http.post(`/v1/payments/${id}/resolve`, body);
      expect([body, res.status, res.body.error]).toEqual([body, 400, 'invalid_request']);
    }
    const unconfirmed = await stack.http.post(`/v1/payments/${id}/resolve`, { outcome: 'failed', reason: 'the recipient says nothing arrived' });
    expect(unconfirmed.body.issues).toEqual([expect.objectContaining({ path: 'confirm', message: expect.stringContaining('pay its recipient twice') })]);
    await unchanged(id, address);
  });

  it("records an admin's confirmed override as an audit entry (key, time, reason, the last wallet check), returns the money to owed, and a later run pays it", async () => {
    const address = pubkey(0x7e03);
    const id = await unknownKeysend(address, 'v-override');
    // The wallet forgot it (the simulator is reset): a look now finds nothing, too early to say it was not paid.
    await stack.sim.reset();
    await stack.sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000 });
    const checked = await stack.http.post(`/v1/payments/${id}/check`, {});
    expect(checked).toMatchObject({
      status: 200,
      body: { status: 'unknown', verdicts: [], lastCheck: { at: expect.any(String), walletSaid: expect.any(String) } },
    });
    const { lastCheck } = checked.body;

    const { id: keyId, key } = await keys.create('test-app', ALL_SCOPES);
    const before = Date.now();
    const reason = 'the recipient confirmed nothing arrived; wallet support agrees';
    const res = await as(key).post(`/v1/payments/${id}/resolve`, { outcome: 'failed', confirm: true, reason });
    expect(res.status).toBe(200);
    const verdict = {
      outcome: 'failed',
      basis: 'override',
      decidedBy: `api key ${keyId} (test-app)`,
      reason,
      evidence: { checkedAt: lastCheck.at, walletSaid: lastCheck.walletSaid },
      at: expect.any(String),
    };
    expect(res.body).toMatchObject({ status: 'failed', lastErrorMessage: expect.stringContaining(reason), verdicts: [verdict] });
    const shown = (await stack.http.get(`/v1/payments/${id}`)).body;
    expect(shown).toMatchObject({ status: 'failed', resolvedBy: `api key ${keyId} (test-app)`, verdicts: [verdict], lastCheck });
    expect(new Date(shown.verdicts[0].at).getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(new Date(shown.verdicts[0].at).getTime()).toBeLessThanOrEqual(Date.now());
    // The lists show it too (the alias and the failed filter).
    const listed = (await stack.http.get('/v1/keysends?status=failed')).body.keysends.find((k: { id: string }) => k.id === id);
    expect(listed).toMatchObject({ verdicts: [verdict] });

    expect((await stack.recipient(address)).body).toMatchObject({ inFlightMsat: '0', owedMsat: '60000', paidMsat: '0' });
    expect(await stack.invariant()).toMatchObject({ ok: true, problems: [] });
    // Settled: a second verdict is a conflict, and the first stays the only one.
    expect(await as(key).post(`/v1/payments/${id}/resolve`, { outcome: 'failed', confirm: true, reason })).toMatchObject({
      status: 409,
      body: { error: 'conflict' },
    });
    expect((await stack.http.get(`/v1/payments/${id}`)).body.verdicts).toHaveLength(1);

    await stack.runPayout();
    expect((await stack.sim.payments()).filter((p) => p.destination === address).map((p) => p.amount)).toEqual([60]);
    expect((await stack.recipient(address)).body).toMatchObject({ inFlightMsat: '0', owedMsat: '0', paidMsat: '60000' });
    expect(await stack.invariant()).toMatchObject({ ok: true, problems: [] });
  });

  it('settles as paid on a preimage of the payment hash (any payouts:write key of its app), refusing a wrong one with 422', async () => {
    // An invoice payment (a Lightning Address paid by LNURL-pay): its payment hash came with the invoice.
    const address = `vera@${LN_DOMAIN}`;
    await stack.sim.setRule(SIM_PAYEE_PUBKEY, { hang: true });
    await stack.postEvents([event('v-preimage', { type: 'lnaddress', address })]);
    await stack.accumulated();
    await stack.resolveAddresses();
    const run = await stack.runPayout();
    await stack.sim.clearRule(SIM_PAYEE_PUBKEY);
    const [payment] = run.keysends;
    expect(payment).toMatchObject({ method: 'invoice', status: 'unknown', paymentHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const paid = (await stack.sim.payments()).find((p) => p.paymentHash === payment.paymentHash)!;
    expect(paid).toBeDefined();

    const { id: keyId, key } = await keys.create('test-app', [Scope.PayoutsRead, Scope.PayoutsWrite]);
    const wrong = await as(key).post(`/v1/payments/${payment.id}/resolve`, { outcome: 'succeeded', preimage: 'ab'.repeat(32) });
    expect(wrong).toMatchObject({ status: 422, body: { error: 'unprocessable_evidence', message: "the preimage does not hash to the payment's hash" } });
    expect((await stack.http.get(`/v1/payments/${payment.id}`)).body).toMatchObject({ status: 'unknown', verdicts: [] });

    const res = await as(key).post(`/v1/payments/${payment.id}/resolve`, { outcome: 'succeeded', preimage: paid.preimage.toUpperCase() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'succeeded',
      paymentHash: payment.paymentHash,
      resolvedBy: `api key ${keyId} (test-app)`,
      verdicts: [
        {
          outcome: 'succeeded',
          basis: 'preimage',
          decidedBy: `api key ${keyId} (test-app)`,
          reason: expect.any(String),
          evidence: { preimage: paid.preimage, checkedAt: null, walletSaid: null },
          at: expect.any(String),
        },
      ],
    });
    expect((await stack.recipient(address)).body).toMatchObject({ inFlightMsat: '0', owedMsat: '0', paidMsat: '60000' });
    expect(await stack.invariant()).toMatchObject({ ok: true, problems: [] });
    expect((await stack.sim.payments()).filter((p) => p.paymentHash === payment.paymentHash)).toHaveLength(1);
  });

  it('refuses a preimage for a keysend whose hash the wallet chose (Alby): 422, check the wallet instead', async () => {
    const address = pubkey(0x7e04);
    const id = await unknownKeysend(address, 'v-no-hash');
    const res = await stack.http.post(`/v1/payments/${id}/resolve`, { outcome: 'succeeded', preimage: 'cd'.repeat(32) });
    expect(res).toMatchObject({ status: 422, body: { error: 'unprocessable_evidence', message: expect.stringContaining('check the wallet') } });
    await unchanged(id, address);
  });
});
