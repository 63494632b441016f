import net from 'node:net';
import { pubkey } from '../../../money/src/testing/value-builders.js';
import { startSimulator, type Sim } from '../../../../test/support/alby-sim.js';
import { PAYEE_PUBKEY, signedInvoice } from '../../../../test/support/invoices.js';
import { freePort } from '../../../../test/support/outages.js';
import { InvalidPaymentRequestError, type KeysendRequest, type PaymentOutcome } from '../wallet.types.js';
import { AlbyClient } from './alby-client.js';
import { AlbyWallet } from './alby.wallet.js';

const alice = pubkey(0xa11ce);
const bob = pubkey(0xb0b);
const carol = pubkey(0xca201);

const keysend = (destination: string, amountSats = 100, extra: Partial<KeysendRequest> = {}): KeysendRequest => ({
  amountSats,
  destination,
  memo: `ref-${destination.slice(-4)}`,
  customRecords: { '7629169': JSON.stringify({ action: 'stream', value_msat: amountSats * 1000 }), '696969': 'wallet-1' },
  ...extra,
});

// Contract tests: the client against the Alby simulator over real HTTP, one per outcome the server can give.
describe('AlbyClient against the simulator', () => {
  let sim: Sim;
  const seen: PaymentOutcome[] = [];
  const clientFor = (options: Partial<ConstructorParameters<typeof AlbyClient>[0]> = {}) =>
    new AlbyClient({ baseUrl: sim.url, accessToken: sim.token, timeoutMs: 5_000, maxRequestsPerSecond: 100, ...options });
  const record = <T extends PaymentOutcome | PaymentOutcome[]>(outcome: T): T => {
    seen.push(...([] as PaymentOutcome[]).concat(outcome));
    return outcome;
  };

  beforeAll(async () => {
    sim = await startSimulator();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000 });
  });
  afterAll(async () => {
    await sim.close();
    // The access token is never part of an outcome (outcomes end up in the database and in logs).
    expect(seen.length).toBeGreaterThan(10);
    expect(JSON.stringify(seen)).not.toContain(sim.token);
  });

  it('keysend: success -> paid, with amount, fee, payment hash, preimage, destination and custom records', async () => {
    const outcome = record(await clientFor().keysend(keysend(alice, 1_000)));
    expect(outcome).toMatchObject({ status: 'paid', amountSats: 1_000, feeSats: 1, destination: alice });
    if (outcome.status !== 'paid') throw new Error('not paid');
    expect(outcome.paymentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(outcome.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect(outcome.customRecords['696969']).toBe('wallet-1');
    const [payment] = await sim.payments();
    expect(payment).toMatchObject({ amount: 1_000, destination: alice, memo: `ref-${alice.slice(-4)}`, paymentHash: outcome.paymentHash });
  });

  it('keysend: HTTP 200 with error: true -> not_paid (a failure whatever the status)', async () => {
    await sim.setRule(alice, { fail: { code: 10, message: 'FAILURE_REASON_NO_ROUTE' } });
    expect(record(await clientFor().keysend(keysend(alice)))).toEqual({
      status: 'not_paid',
      code: 10,
      message: 'FAILURE_REASON_NO_ROUTE',
      httpStatus: 200,
      scope: 'item',
    });
  });

  it('multi: partial failure -> per-item outcomes, correlated by index even for a repeated destination', async () => {
    await sim.setRule(bob, { fail: { code: 10, message: 'no_route' } });
    await sim.setRule(carol, { failFirst: 1 });
    const outcomes = record(await clientFor().keysendMulti([keysend(alice, 10), keysend(bob, 20), keysend(carol, 30), keysend(carol, 40)]));
    expect(outcomes.map((o) => o.status)).toEqual(['paid', 'not_paid', 'not_paid', 'paid']);
    expect(outcomes[0]).toMatchObject({ amountSats: 10, destination: alice });
    expect(outcomes[1]).toMatchObject({ code: 10, message: 'no_route', scope: 'item', httpStatus: 200 });
    expect(outcomes[2]).toMatchObject({ code: 10, message: 'FAILURE_REASON_NO_ROUTE', scope: 'item' });
    expect(outcomes[3]).toMatchObject({ amountSats: 40, destination: carol });
    expect((await sim.payments()).map((p) => p.amount)).toEqual([10, 40]);
  });

  it('multi: every item failed -> HTTP 500 with the same body, parsed into not_paid items', async () => {
    await sim.setRule(alice, { fail: { code: 10, message: 'no_route' } });
    await sim.setRule(bob, { fail: { code: 10, message: 'FAILURE_REASON_TIMEOUT' } });
    const outcomes = record(await clientFor().keysendMulti([keysend(alice), keysend(bob)]));
    expect(outcomes).toEqual([
      { status: 'not_paid', code: 10, message: 'no_route', httpStatus: 500, scope: 'item' },
      { status: 'not_paid', code: 10, message: 'FAILURE_REASON_TIMEOUT', httpStatus: 500, scope: 'item' },
    ]);
  });

  it('multi: 400 code 2 (balance with the 1% reserve) rejects the whole request, nothing paid', async () => {
    await sim.configure({ balanceSats: 100 });
    const outcomes = record(await clientFor().keysendMulti([keysend(alice, 50), keysend(bob, 50)]));
    expect(outcomes).toEqual(
      Array(2).fill({
        status: 'not_paid',
        code: 2,
        message: 'not enough balance. Make sure you have at least 1% reserved for potential fees',
        httpStatus: 400,
        scope: 'request',
        refusal: 'wallet',
      }),
    );
    expect(await sim.payments()).toEqual([]);
  });

  it('multi: 400 code 8 (one bad item) rejects the whole request, nothing paid, the contents to blame', async () => {
    const bad = keysend(bob, 5, { customRecords: { 'not-a-number': 'x' } });
    const outcomes = record(await clientFor().keysendMulti([keysend(alice), bad]));
    expect(outcomes.every((o) => o.status === 'not_paid' && o.code === 8 && o.scope === 'request' && o.refusal === 'contents' && o.httpStatus === 400)).toBe(
      true,
    );
    expect(await sim.payments()).toEqual([]);
  });

  it('multi: 400 code 2 for a destination the wallet will not take -> the contents to blame, not the wallet', async () => {
    await sim.setRule(bob, { refuse: { code: 2, message: 'invalid destination pubkey' } });
    const outcomes = record(await clientFor().keysendMulti([keysend(alice), keysend(bob)]));
    expect(outcomes.map((o) => o.status === 'not_paid' && [o.code, o.scope, o.refusal])).toEqual([
      [2, 'request', 'contents'],
      [2, 'request', 'contents'],
    ]);
    expect(await sim.payments()).toEqual([]);
  });

  it('wallet status: reachable and authorized, refused credentials, unreachable', async () => {
    expect(await new AlbyWallet(clientFor()).status()).toEqual({ reachable: true, authorized: true });
    expect(await new AlbyWallet(clientFor({ accessToken: 'wrong-token' })).status()).toMatchObject({ reachable: true, authorized: false });
    const closed = new AlbyClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, accessToken: sim.token, timeoutMs: 1_000, maxRequestsPerSecond: 10 });
    expect(await new AlbyWallet(closed).status()).toMatchObject({ reachable: false, authorized: true });
  });

  it('401 code 1: bad auth -> not_paid for the whole request', async () => {
    const outcome = record(await clientFor({ accessToken: 'wrong-token' }).keysend(keysend(alice)));
    expect(outcome).toEqual({ status: 'not_paid', code: 1, message: 'bad auth', httpStatus: 401, scope: 'request', refusal: 'wallet' });
  });

  it('429 code 1: rate limited -> not_paid with the time from x-rate-limit-reset', async () => {
    await sim.configure({ rateLimitPerSecond: 0.5, rateLimitBurst: 1 });
    const client = clientFor();
    expect(record(await client.keysend(keysend(alice))).status).toBe('paid');
    const before = Date.now();
    const [limited] = record(await client.keysendMulti([keysend(bob)]));
    expect(limited).toMatchObject({ status: 'not_paid', code: 1, message: 'Too many requests', httpStatus: 429, scope: 'request', refusal: 'rate_limit' });
    if (limited?.status !== 'not_paid') throw new Error('expected not_paid');
    expect(limited.retryAfter!.getTime()).toBeGreaterThan(before);
    expect(limited.retryAfter!.getTime()).toBeLessThanOrEqual(before + 3_000);
  });

  it('a timeout after the request was sent -> unknown (and the payment did happen)', async () => {
    await sim.setRule(alice, { hang: true });
    const outcomes = record(await clientFor({ timeoutMs: 300 }).keysendMulti([keysend(alice), keysend(bob)]));
    expect(outcomes.map((o) => o.status)).toEqual(['unknown', 'unknown']);
    expect(outcomes[0]).toMatchObject({ reason: expect.stringContaining('may have gone out') });
    expect((await sim.payments()).length).toBe(2);
  });

  it('an unparseable body -> unknown', async () => {
    await sim.setRule(alice, { respondWith: { status: 200, body: '{"keysends": [{"keysend": {"amount": 1' } });
    expect(record(await clientFor().keysendMulti([keysend(alice)]))).toEqual([
      { status: 'unknown', reason: 'HTTP 200 with an unparseable body', httpStatus: 200 },
    ]);
  });

  it('a 5xx without a parseable body (a proxy error page) -> unknown', async () => {
    await sim.setRule(alice, { respondWith: { status: 502, body: '<html>Bad Gateway</html>' } });
    expect(record(await clientFor().keysend(keysend(alice)))).toEqual({
      status: 'unknown',
      reason: 'HTTP 502 with an unparseable body',
      httpStatus: 502,
    });
  });

  it('a 500 code 6 ("something went wrong") -> unknown: the server may have paid before failing', async () => {
    await sim.setRule(alice, { respondWith: { status: 500, body: '{"error":true,"code":6,"message":"Something went wrong. Please try again later"}' } });
    expect(record(await clientFor().keysendMulti([keysend(alice)]))[0]).toMatchObject({ status: 'unknown', httpStatus: 500 });
  });

  it('multi: a result count that does not match the request -> unknown for every item', async () => {
    await sim.setRule(alice, { respondWith: { status: 200, body: '{"keysends":[]}' } });
    const outcomes = record(await clientFor().keysendMulti([keysend(alice), keysend(bob)]));
    expect(outcomes.map((o) => o.status)).toEqual(['unknown', 'unknown']);
  });

  it('connection refused -> not_paid (the request never left), no error code', async () => {
    const closedPort = await freePort();
    const client = new AlbyClient({ baseUrl: `http://127.0.0.1:${closedPort}`, accessToken: sim.token, timeoutMs: 1_000, maxRequestsPerSecond: 10 });
    expect(record(await client.keysend(keysend(alice)))).toEqual({
      status: 'not_paid',
      code: null,
      message: 'wallet API unreachable (ECONNREFUSED)',
      scope: 'request',
      refusal: 'wallet',
    });
  });

  it('a connection reset after sending -> unknown', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy())).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const client = new AlbyClient({ baseUrl: `http://127.0.0.1:${port}`, accessToken: sim.token, timeoutMs: 1_000, maxRequestsPerSecond: 10 });
      expect(record(await client.keysend(keysend(alice)))).toMatchObject({ status: 'unknown' });
    } finally {
      server.close();
    }
  });

  it('rejects fractions and zero before sending anything', async () => {
    const client = clientFor();
    await expect(client.keysend(keysend(alice, 1.5))).rejects.toThrow(InvalidPaymentRequestError);
    await expect(client.keysendMulti([keysend(alice), keysend(bob, 0)])).rejects.toThrow(/keysends\[1\]\.amountSats/);
    await expect(client.payBolt11('lnbc1', 0)).rejects.toThrow(InvalidPaymentRequestError);
    expect(await sim.attempts()).toEqual([]);
  });

  it('bolt11: pays a real invoice -> paid, destination recovered from the signature', async () => {
    const { invoice, paymentHash } = signedInvoice({ sats: 2_000 });
    expect(record(await clientFor().payBolt11(invoice))).toMatchObject({
      status: 'paid',
      amountSats: 2_000,
      destination: PAYEE_PUBKEY,
      paymentHash,
      paymentRequest: invoice,
    });
  });

  it('bolt11: a zero-amount invoice takes the amount; an expired one is refused with code 2; garbage with code 8', async () => {
    const client = clientFor();
    expect(record(await client.payBolt11(signedInvoice({}).invoice, 7))).toMatchObject({ status: 'paid', amountSats: 7 });
    const expired = signedInvoice({ sats: 10, expiresInSeconds: 60, createdSecondsAgo: 120 }).invoice;
    expect(record(await client.payBolt11(expired))).toMatchObject({ status: 'not_paid', code: 2, message: 'invoice expired' });
    expect(record(await client.payBolt11('lnbc1notaninvoice'))).toMatchObject({ status: 'not_paid', code: 8 });
  });

  it('lists settled outgoing payments newest first, custom records decoded, paged', async () => {
    const client = clientFor();
    record(await client.keysendMulti([keysend(alice, 1), keysend(bob, 2), keysend(carol, 3)]));
    const firstPage = await client.listOutgoing({ page: 1, items: 2 });
    expect(firstPage.map((p) => p.amountSats)).toEqual([3, 2]);
    expect(firstPage[0]!.customRecords['696969']).toBe('wallet-1');
    expect(firstPage[0]!.memo).toBe(`ref-${carol.slice(-4)}`);
    expect((await client.listOutgoing({ page: 2, items: 2 })).map((p) => p.amountSats)).toEqual([1]);
    expect(await client.listOutgoing({ createdAfter: new Date(Date.now() + 60_000) })).toEqual([]);
  });
});
