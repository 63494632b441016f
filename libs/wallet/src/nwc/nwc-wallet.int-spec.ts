import { createHash, randomBytes } from 'node:crypto';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { nwcUrl } from '@splitstream/config';
import { startNwcSim, type NwcSim } from '../../../../apps/nwc-sim/src/nwc-sim.js';
import { pubkey } from '../../../money/src/testing/value-builders.js';
import type { KeysendRequest } from '../wallet.types.js';
import { connectionFrom, hexToUtf8, Nip47Error } from './nip47.js';
import { NwcClient } from './nwc-client.js';
import { NwcWallet } from './nwc.wallet.js';

const alice = pubkey(0xa1);
const bob = pubkey(0xb2);
const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
const keysend = (destination: string, amountSats = 10, extra: Partial<KeysendRequest> = {}): KeysendRequest => ({
  amountSats,
  destination,
  preimage: randomBytes(32).toString('hex'),
  customRecords: { '7629169': '{"action":"stream","name":"Ålice"}', '696969': 'wallet-1' },
  ...extra,
});

// The NWC rail over a real relay and WebSocket, against the development wallet service.
describe('NwcWallet over a real Nostr relay (integration)', () => {
  let sim: NwcSim;
  let client: NwcClient;
  let wallet: NwcWallet;
  const clientSecret = generateSecretKey();
  const connect = (timeoutMs = 5_000) => {
    client?.close();
    client = new NwcClient(connectionFrom(nwcUrl(sim.wallet.walletPubkey, [sim.relay.url], Buffer.from(clientSecret).toString('hex'))), timeoutMs);
    client.start();
    wallet = new NwcWallet(client, 100);
  };

  beforeAll(async () => {
    sim = await startNwcSim({ host: '127.0.0.1', relayPort: 0, walletSecret: generateSecretKey(), clients: [getPublicKey(clientSecret)] });
  });
  beforeEach(async () => {
    await sim.wallet.reset();
    connect();
  });
  afterAll(async () => {
    client.close();
    await sim.wallet.stop();
    await sim.relay.stop();
    await sim.admin.close();
  });

  it('pays by pay_keysend with our preimage, exact msat and the TLV records, over NIP-44 with an expiration tag', async () => {
    await sim.wallet.configure({ methods: ['pay_keysend', 'lookup_invoice', 'get_info'] });
    connect();
    const request = keysend(alice, 21);
    const [outcome] = await wallet.payKeysends([request]);
    expect(outcome).toMatchObject({ status: 'paid', amountSats: 21, preimage: request.preimage, paymentHash: sha256(request.preimage!), feeSats: 1 });
    const [tx] = sim.wallet.transactions;
    expect(tx).toMatchObject({ amount: 21_000, payment_hash: sha256(request.preimage!), preimage: request.preimage, state: 'settled' });
    expect(Object.fromEntries(tx!.metadata.tlv_records!.map((r) => [String(r.type), hexToUtf8(r.value)]))).toEqual(request.customRecords);
    const sent = sim.wallet.requests.find((r) => r.method === 'pay_keysend')?.event;
    expect(sent!.tags).toEqual(
      expect.arrayContaining([
        ['encryption', 'nip44_v2'],
        ['p', sim.wallet.walletPubkey],
      ]),
    );
    const expiration = Number(sent!.tags.find((t) => t[0] === 'expiration')![1]);
    expect(expiration).toBeGreaterThan(Date.now() / 1000);
    expect(sent!.content).not.toContain('?iv=');
  });

  it('pays by multi_pay_keysend when the wallet lists it, each answer matched by its d tag (one destination twice)', async () => {
    const requests = [keysend(alice, 5), keysend(bob, 7), keysend(alice, 9)];
    const outcomes = await wallet.payKeysends(requests);
    expect(outcomes.map((o) => o.status === 'paid' && [o.amountSats, o.preimage])).toEqual(requests.map((r) => [r.amountSats, r.preimage]));
    expect(sim.wallet.requests.map((r) => r.method)).toEqual(['get_info', 'multi_pay_keysend']);
    expect(sim.wallet.transactions.map((t) => t.amount).sort((a, b) => a - b)).toEqual([5_000, 7_000, 9_000]);
  });

  it('falls back to NIP-04 when the wallet does not advertise NIP-44', async () => {
    await sim.wallet.configure({ encryptions: ['nip04'] });
    connect();
    const [outcome] = await wallet.payKeysends([keysend(alice)]);
    expect(outcome!.status).toBe('paid');
    expect(sim.wallet.requests.every((r) => r.event.content.includes('?iv='))).toBe(true);
  });

  it.each([
    [Nip47Error.PaymentFailed, { status: 'not_paid', scope: 'item' }],
    [Nip47Error.InsufficientBalance, { status: 'not_paid', scope: 'request', refusal: 'wallet' }],
    [Nip47Error.QuotaExceeded, { status: 'not_paid', scope: 'request', refusal: 'wallet' }],
    [Nip47Error.RateLimited, { status: 'not_paid', scope: 'request', refusal: 'rate_limit' }],
    [Nip47Error.Restricted, { status: 'not_paid', scope: 'request', refusal: 'wallet' }],
    [Nip47Error.Unauthorized, { status: 'not_paid', scope: 'request', refusal: 'wallet' }],
    [Nip47Error.NotImplemented, { status: 'not_paid', scope: 'request', refusal: 'wallet' }],
    [Nip47Error.Internal, { status: 'unknown' }],
    [Nip47Error.Other, { status: 'unknown' }],
  ])('maps %s', async (code, expected) => {
    sim.wallet.setRule(alice, { fail: { code, message: `sim says ${code}` } });
    const [outcome] = await wallet.payKeysends([keysend(alice)]);
    expect(outcome).toMatchObject(expected);
    if (outcome!.status === 'not_paid') expect(outcome).toMatchObject({ code, message: `sim says ${code}` });
  });

  it('a hang (paid, never answered) is unknown; lookup_invoice then finds it settled; sending it again with the same preimage does not pay twice', async () => {
    connect(1_500);
    sim.wallet.setRule(alice, { hang: true });
    const request = keysend(alice, 12);
    const [outcome] = await wallet.payKeysends([request]);
    expect(outcome).toMatchObject({ status: 'unknown' });
    const found = await wallet.findPayments([
      { reference: 'r1', paymentHash: sha256(request.preimage!) },
      { reference: 'r2', paymentHash: sha256('00'.repeat(32)) },
    ]);
    expect(found.get('r1')).toMatchObject({ state: 'settled', record: { preimage: request.preimage, paymentHash: sha256(request.preimage!) } });
    expect(found.has('r2')).toBe(false);
    sim.wallet.clearRule(alice);
    const [again] = await wallet.payKeysends([request]);
    expect(again).toMatchObject({ status: 'unknown', reason: expect.stringContaining('already exists') });
    expect(sim.wallet.transactions).toHaveLength(1);
  });

  it('uses whichever relays of the connection answer (one of two is down)', async () => {
    client.close();
    client = new NwcClient(
      connectionFrom(nwcUrl(sim.wallet.walletPubkey, ['ws://127.0.0.1:9', sim.relay.url], Buffer.from(clientSecret).toString('hex'))),
      5_000,
    );
    client.start();
    const [outcome] = await new NwcWallet(client, 100).payKeysends([keysend(bob, 3)]);
    expect(outcome).toMatchObject({ status: 'paid', amountSats: 3 });
  });

  it('a request no relay takes was never sent: not paid, the wallet to blame', async () => {
    client.close();
    client = new NwcClient(connectionFrom(nwcUrl(sim.wallet.walletPubkey, ['ws://127.0.0.1:9'], Buffer.from(clientSecret).toString('hex'))), 1_000);
    client.start();
    await expect(new NwcWallet(client, 100).payKeysends([keysend(alice)])).resolves.toEqual([
      { status: 'not_paid', code: null, message: 'no relay of the connection can be reached', scope: 'request', refusal: 'wallet' },
    ]);
  });
});
