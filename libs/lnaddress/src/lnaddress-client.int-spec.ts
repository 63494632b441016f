import Fastify, { type FastifyInstance } from 'fastify';
import { LnaddressHost } from '@splitstream/lightning-sim';
import { pubkey, OFF_CURVE_PUBKEY } from '../../money/src/testing/value-builders.js';
import { LnaddressClient, type LnaddressClientOptions } from './lnaddress-client.js';
import { LnaddressError } from './route.js';

// The resolver against real HTTP servers: the simulators' Lightning-address host, and one that misbehaves.
describe('LnaddressClient over real HTTP (integration)', () => {
  let host: FastifyInstance;
  let lnaddress: LnaddressHost;
  let rogue: FastifyInstance;
  let hostUrl: string;
  let rogueUrl: string;
  const client = (options: Partial<LnaddressClientOptions> = {}) =>
    new LnaddressClient({
      timeoutMs: 500,
      maxBodyBytes: 4_096,
      production: false,
      maxCltvExpiryBlocks: 144,
      hostMap: new Map([
        ['pods.test', hostUrl],
        ['rogue.test', rogueUrl],
      ]),
      ...options,
    });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('resolved');
      },
      (error: LnaddressError) => ({ name: error.name, code: error.code, message: error.message }),
    );

  beforeAll(async () => {
    host = Fastify();
    lnaddress = new LnaddressHost();
    lnaddress.register(host);
    rogue = Fastify();
    rogue.get('/.well-known/keysend/:user', async (_request, reply) => reply.code(404).send());
    rogue.get('/.well-known/lnurlp/slow', async () => new Promise((resolve) => setTimeout(() => resolve({}), 2_000)));
    rogue.get('/.well-known/lnurlp/drip', async (_request, reply) => {
      reply.raw.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => reply.raw.write(' '), 100);
      setTimeout(() => (clearInterval(timer), reply.raw.end('{}')), 2_000);
      return reply;
    });
    rogue.get('/.well-known/lnurlp/huge', async () => ({ tag: 'payRequest', padding: 'x'.repeat(10_000) }));
    rogue.get('/.well-known/lnurlp/away', async (_request, reply) => reply.redirect(`${hostUrl.replace('127.0.0.1', 'localhost')}/.well-known/lnurlp/alice`, 302));
    rogue.get('/.well-known/lnurlp/near', async (_request, reply) => reply.redirect('/.well-known/lnurlp/here', 302));
    rogue.get('/.well-known/lnurlp/here', async () => ({ tag: 'payRequest', callback: 'http://127.0.0.1:1/cb', minSendable: 1000, maxSendable: 2000, metadata: '[]' }));
    rogue.get('/.well-known/lnurlp/error', async () => ({ status: 'ERROR', reason: 'no such user' }));
    await host.listen({ host: '127.0.0.1', port: 0 });
    await rogue.listen({ host: '127.0.0.1', port: 0 });
    hostUrl = `http://127.0.0.1:${(host.server.address() as { port: number }).port}`;
    rogueUrl = `http://127.0.0.1:${(rogue.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await host.close();
    await rogue.close();
  });
  beforeEach(() => lnaddress.reset());

  it('resolves keysend where it is offered, LNURL-pay otherwise, and fetches a checked invoice for the exact amount', async () => {
    lnaddress.users.set('kim', { keysend: { pubkey: pubkey(4), customData: [{ customKey: '696969', customValue: 'k' }] } });
    expect(await client().resolve('kim@pods.test')).toEqual({ kind: 'keysend', pubkey: pubkey(4), customRecords: { '696969': 'k' } });
    const resolution = await client().resolve('alice@pods.test');
    expect(resolution).toMatchObject({ kind: 'lnurlp', minSendableMsat: 1_000n, commentAllowed: 255 });
    if (resolution.kind !== 'lnurlp') throw new Error('not lnurlp');
    const invoice = await client().invoice({ callback: resolution.callback, msat: 42_000n, comment: 'stream 42 sats', metadataHash: resolution.metadataHash });
    expect(lnaddress.invoices).toEqual([expect.objectContaining({ user: 'alice', msat: '42000', comment: 'stream 42 sats', paymentHash: invoice.paymentHash })]);
  });

  it('falls back to LNURL-pay when the keysend answer names a key off the curve', async () => {
    lnaddress.users.set('bad', { keysend: { pubkey: OFF_CURVE_PUBKEY } });
    expect(await client().resolve('bad@pods.test')).toMatchObject({ kind: 'lnurlp' });
  });

  it.each([
    ['slow', 'slow@rogue.test: no answer before the timeout'],
    ['drip', 'drip@rogue.test: no answer before the timeout'],
    ['huge', 'huge@rogue.test: the answer is larger than the body limit'],
    ['away', /^away@rogue\.test: .*redirected to another host \(localhost\)/],
    ['error', 'error@rogue.test: the server says: no such user'],
  ])('gives up on %s with a reason', async (user, message) => {
    expect(await failure(client().resolve(`${user}@rogue.test`))).toEqual({ name: 'LnaddressError', code: 'lnaddress_unresolved', message: expect.stringMatching(message) });
  });

  it('follows a redirect within the same host', async () => {
    expect(await client().resolve('near@rogue.test')).toMatchObject({ kind: 'lnurlp', maxSendableMsat: 2_000n });
  });

  it('in production calls only https, never an IP address (and has no host map: the domain itself is asked)', async () => {
    const production = new LnaddressClient({ timeoutMs: 500, maxBodyBytes: 4_096, production: true, maxCltvExpiryBlocks: 144 });
    expect(await failure(production.invoice({ callback: `${rogueUrl}/cb`, msat: 1_000n, comment: '', metadataHash: '' }))).toEqual({
      name: 'LnaddressError',
      code: 'lnaddress_unresolved',
      message: `${rogueUrl}: only https is followed in production`,
    });
    expect(await failure(production.invoice({ callback: 'https://10.0.0.1/cb', msat: 1_000n, comment: '', metadataHash: '' }))).toMatchObject({
      message: 'https://10.0.0.1: an IP address is not followed in production',
    });
    // A host name is checked on the address it resolves to: nothing private, loopback or link-local.
    expect(await failure(production.invoice({ callback: 'https://localhost/cb', msat: 1_000n, comment: '', metadataHash: '' }))).toMatchObject({
      message: 'the callback failed: localhost resolves to a private address',
    });
    expect(await failure(production.resolve('alice@pods.test'))).toEqual({ name: 'LnaddressError', code: 'lnaddress_unresolved', message: expect.stringMatching(/^alice@pods\.test: (ENOTFOUND|EAI_AGAIN)/) });
  });

  it('says what the callback answered when it gives no invoice', async () => {
    expect(await failure(client().invoice({ callback: `${rogueUrl}/.well-known/lnurlp/error`, msat: 1_000n, comment: '', metadataHash: '' }))).toEqual({
      name: 'LnaddressError',
      code: 'invoice_refused',
      message: 'the callback gave no invoice: the server says: no such user',
    });
  });
});
