import Fastify, { type FastifyInstance } from 'fastify';
import { parseConfig } from '@splitstream/config';
import { LnaddressHost } from '@splitstream/lightning-sim';
import type { ResolvedAddress } from '@splitstream/outbound';
import { pubkey, OFF_CURVE_PUBKEY } from '../../money/src/testing/value-builders.js';
import { LNADDRESS_FAILURE_TEXT, LnaddressClient, type LnaddressClientOptions } from './lnaddress-client.js';
import { LnaddressError, MAX_COMMENT_CHARS } from './route.js';

// Fake DNS: what each name "resolves" to. Public answers are dialled at 127.0.0.1 by the test-only `dial` hook, after
// the guard accepted them, so a payment to a name resolving to a public address can really be made here.
const FAKE_DNS: Record<string, ResolvedAddress[]> = {
  'pub4.example': [{ address: '93.184.216.34', family: 4 }],
  'pub6.example': [{ address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 }],
  'nat64pub.example': [{ address: '64:ff9b::5db8:d822', family: 6 }], // NAT64 of 93.184.216.34
  'private.example': [{ address: '10.0.0.5', family: 4 }],
  'loopback.example': [{ address: '127.0.0.1', family: 4 }],
  'metadata.example': [{ address: '169.254.169.254', family: 4 }],
  'mapped.example': [{ address: '::ffff:10.0.0.1', family: 6 }],
  'nat64.example': [{ address: '64:ff9b::a00:1', family: 6 }],
  '6to4.example': [{ address: '2002:a00:1::1', family: 6 }],
  'sitelocal.example': [{ address: 'fec0::1', family: 6 }],
  'ula.example': [{ address: 'fd00::1', family: 6 }],
  'mixed.example': [
    { address: '93.184.216.34', family: 4 },
    { address: '10.0.0.5', family: 4 },
  ],
};

// The resolver against real HTTP servers: the simulators' Lightning-address host, and one that misbehaves.
describe('LnaddressClient over real HTTP (integration)', () => {
  let host: FastifyInstance;
  let lnaddress: LnaddressHost;
  let rogue: FastifyInstance;
  let hostUrl: string;
  let rogueUrl: string;
  let hostPort: number;
  let rogueHits: string[];
  let dialled: string[];
  const resolve = async (hostname: string) => {
    const found = FAKE_DNS[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found;
  };
  const dial = (checked: ResolvedAddress): ResolvedAddress => {
    dialled.push(checked.address);
    return { address: '127.0.0.1', family: 4 };
  };
  // Local runs and tests: the host map sends domains to local servers, and OUTBOUND_ALLOW_PRIVATE lets them be called.
  const client = (options: Partial<LnaddressClientOptions> = {}) =>
    new LnaddressClient({
      timeoutMs: 500,
      maxBodyBytes: 4_096,
      production: false,
      allowPrivate: true,
      maxCltvExpiryBlocks: 144,
      hostMap: new Map([
        ['pods.test', hostUrl],
        ['rogue.test', rogueUrl],
      ]),
      ...options,
    });
  // The guard on (the default: OUTBOUND_ALLOW_PRIVATE unset), DNS faked; names are sent to the host's port by name, so
  // the guard judges each on its fake answer.
  const guarded = (options: Partial<LnaddressClientOptions> = {}) =>
    new LnaddressClient({
      timeoutMs: 1_000,
      maxBodyBytes: 4_096,
      production: false,
      allowPrivate: false,
      maxCltvExpiryBlocks: 144,
      resolve,
      dial,
      hostMap: new Map(Object.keys(FAKE_DNS).map((name) => [name, `http://${name}:${hostPort}`])),
      ...options,
    });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('resolved');
      },
      (error: LnaddressError) => ({ name: error.name, code: error.code, message: error.message, detail: error.detail }),
    );

  beforeAll(async () => {
    host = Fastify();
    lnaddress = new LnaddressHost();
    lnaddress.register(host);
    rogue = Fastify();
    rogue.addHook('onRequest', async (request) => void rogueHits.push(request.url));
    rogue.get('/.well-known/keysend/hang', async () => new Promise((resolve) => setTimeout(() => resolve({}), 2_000)));
    rogue.get('/.well-known/lnurlp/hang', async () => ({
      tag: 'payRequest',
      callback: `${rogueUrl}/cb`,
      minSendable: 1000,
      maxSendable: 2000,
      metadata: '[]',
    }));
    rogue.get('/.well-known/keysend/:user', async (_request, reply) => reply.code(404).send());
    rogue.get('/.well-known/lnurlp/slow', async () => new Promise((resolve) => setTimeout(() => resolve({}), 2_000)));
    rogue.get('/.well-known/lnurlp/drip', async (_request, reply) => {
      reply.raw.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => reply.raw.write(' '), 100);
      setTimeout(() => (clearInterval(timer), reply.raw.end('{}')), 2_000);
      return reply;
    });
    rogue.get('/.well-known/lnurlp/huge', async () => ({ tag: 'payRequest', padding: 'x'.repeat(10_000) }));
    rogue.get('/.well-known/lnurlp/away', async (_request, reply) =>
      reply.redirect(`${hostUrl.replace('127.0.0.1', 'localhost')}/.well-known/lnurlp/alice`, 302),
    );
    rogue.get('/.well-known/lnurlp/port', async (_request, reply) => reply.redirect(`${hostUrl}/.well-known/lnurlp/alice`, 302)); // same host, another port
    rogue.get('/.well-known/lnurlp/scheme', async (_request, reply) => reply.redirect(`${rogueUrl.replace('http:', 'https:')}/.well-known/lnurlp/here`, 302));
    rogue.get('/.well-known/lnurlp/loop', async (_request, reply) => reply.redirect('/.well-known/lnurlp/loop', 302));
    rogue.get('/.well-known/lnurlp/near', async (_request, reply) => reply.redirect('/.well-known/lnurlp/here', 302));
    rogue.get('/.well-known/lnurlp/here', async () => ({
      tag: 'payRequest',
      callback: 'http://127.0.0.1:1/cb',
      minSendable: 1000,
      maxSendable: 2000,
      metadata: '[]',
    }));
    rogue.get('/.well-known/lnurlp/error', async () => ({ status: 'ERROR', reason: 'no such user' }));
    rogue.get('/.well-known/lnurlp/forger', async () => ({ status: 'ERROR', reason: 'x\n[14:00:00.000] INFO: payout run finished\u001b[2K\u202E' }));
    // LUD-06 metadata with an image: about 150 KB of base64.
    rogue.get('/.well-known/lnurlp/pictured', async () => ({
      tag: 'payRequest',
      callback: `${rogueUrl}/cb`,
      minSendable: 1000,
      maxSendable: 2000,
      metadata: JSON.stringify([
        ['text/plain', 'pictured'],
        ['image/png;base64', Buffer.alloc(112_000, 7).toString('base64')],
      ]),
    }));
    rogue.get('/.well-known/lnurlp/wordy', async () => ({
      tag: 'payRequest',
      callback: `${rogueUrl}/cb`,
      minSendable: 1000,
      maxSendable: 2000,
      metadata: '[]',
      commentAllowed: 4096,
    }));
    // What an internal service would answer: it must never reach an app.
    rogue.get('/secret', async () => ({ status: 'ERROR', reason: 'redis_version:7.2.4 internal secret' }));
    await host.listen({ host: '127.0.0.1', port: 0 });
    await rogue.listen({ host: '127.0.0.1', port: 0 });
    hostPort = (host.server.address() as { port: number }).port;
    hostUrl = `http://127.0.0.1:${hostPort}`;
    rogueUrl = `http://127.0.0.1:${(rogue.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await host.close();
    await rogue.close();
  });
  beforeEach(() => {
    lnaddress.reset();
    rogueHits = [];
    dialled = [];
  });

  it('resolves keysend where it is offered, LNURL-pay otherwise, and fetches a checked invoice for the exact amount', async () => {
    lnaddress.users.set('kim', { keysend: { pubkey: pubkey(4), customData: [{ customKey: '696969', customValue: 'k' }] } });
    expect(await client().resolve('kim@pods.test')).toEqual({ kind: 'keysend', pubkey: pubkey(4), customRecords: { '696969': 'k' } });
    const resolution = await client().resolve('alice@pods.test');
    expect(resolution).toMatchObject({ kind: 'lnurlp', minSendableMsat: 1_000n, commentAllowed: 255 });
    if (resolution.kind !== 'lnurlp') throw new Error('not lnurlp');
    const invoice = await client().invoice({ callback: resolution.callback, msat: 42_000n, comment: 'stream 42 sats', metadataHash: resolution.metadataHash });
    expect(lnaddress.invoices).toEqual([
      expect.objectContaining({ user: 'alice', msat: '42000', comment: 'stream 42 sats', paymentHash: invoice.paymentHash }),
    ]);
  });

  it('falls back to LNURL-pay when the keysend answer names a key off the curve', async () => {
    lnaddress.users.set('bad', { keysend: { pubkey: OFF_CURVE_PUBKEY } });
    expect(await client().resolve('bad@pods.test')).toMatchObject({ kind: 'lnurlp' });
  });

  it.each([
    ['slow', 'lnaddress_unreachable', /^slow@rogue\.test: .*no (whole )?answer within the timeout/],
    ['drip', 'lnaddress_unreachable', /^drip@rogue\.test: .*no whole answer within the timeout/],
    ['huge', 'lnaddress_refused', /^huge@rogue\.test: .*the answer is larger than the body limit/],
    ['away', 'lnaddress_refused', /^away@rogue\.test: .*redirected to another origin \(http:\/\/localhost:/],
    ['port', 'lnaddress_refused', /^port@rogue\.test: .*redirected to another origin \(http:\/\/127\.0\.0\.1:\d+\)/],
    ['scheme', 'lnaddress_refused', /^scheme@rogue\.test: .*redirected to another origin \(https:\/\/127\.0\.0\.1:\d+\)/],
    ['loop', 'lnaddress_refused', /^loop@rogue\.test: .*too many redirects/],
    ['error', 'lnaddress_refused', /^error@rogue\.test: the server says: no such user$/],
  ])('gives up on %s with a coded reason in words (the detail for the log)', async (user, code, detail) => {
    const text = code === 'lnaddress_unreachable' ? LNADDRESS_FAILURE_TEXT.domainUnreachable : LNADDRESS_FAILURE_TEXT.domainRefused;
    expect(await failure(client().resolve(`${user}@rogue.test`))).toEqual({
      name: 'LnaddressError',
      code,
      message: text,
      detail: expect.stringMatching(detail),
    });
  });

  it('asks a domain whose keysend endpoint gave no answer in time nothing more: one timeout, lnaddress_unreachable', async () => {
    expect(await failure(client().resolve('hang@rogue.test'))).toMatchObject({
      code: 'lnaddress_unreachable',
      detail: expect.stringMatching(/no (whole )?answer within the timeout/),
    });
    expect(rogueHits).toEqual(['/.well-known/keysend/hang']);
  });

  it('follows a redirect within the same origin (path only), and never another port or scheme', async () => {
    expect(await client().resolve('near@rogue.test')).toMatchObject({ kind: 'lnurlp', maxSendableMsat: 2_000n });
    await failure(client().resolve('port@rogue.test'));
    expect(lnaddress.requests.filter((r) => r.path.includes('/lnurlp/'))).toEqual([]); // the other port was never called
  });

  it('takes a payRequest whose metadata carries a ~150 KB image within the default body limit (LNADDRESS_MAX_BODY_BYTES)', async () => {
    const maxBodyBytes = parseConfig({}).LNADDRESS_MAX_BODY_BYTES;
    expect(maxBodyBytes).toBe(262_144);
    const route = await client({ maxBodyBytes }).resolve('pictured@rogue.test');
    expect(route).toMatchObject({ kind: 'lnurlp', metadataHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(rogueHits.includes('/.well-known/lnurlp/pictured')).toBe(true);
  });

  it('accepts an address whose commentAllowed is 4096 (LUD-12 sets no maximum), keeping what splitstream may send', async () => {
    expect(await client().resolve('wordy@rogue.test')).toMatchObject({ kind: 'lnurlp', commentAllowed: MAX_COMMENT_CHARS });
    expect(MAX_COMMENT_CHARS).toBe(500);
    lnaddress.users.set('wordy', { commentAllowed: 4096 });
    const route = await client().resolve('wordy@pods.test');
    if (route.kind !== 'lnurlp') throw new Error('not lnurlp');
    const comment = '⚡'.repeat(route.commentAllowed); // what blip10Summary gives at most: cut to commentAllowed code points
    await client().invoice({ callback: route.callback, msat: 5_000n, comment, metadataHash: route.metadataHash });
    expect(lnaddress.invoices).toEqual([expect.objectContaining({ user: 'wordy', comment })]);
  });

  describe('with the outbound guard on (OUTBOUND_ALLOW_PRIVATE unset), against fake DNS answers', () => {
    it.each(['pub4.example', 'pub6.example', 'nat64pub.example'])('pays an address at %s (a public answer): resolved and invoiced', async (domain) => {
      const route = await guarded().resolve(`alice@${domain}`);
      if (route.kind !== 'lnurlp') throw new Error('not lnurlp');
      expect(route.callback).toBe(`http://${domain}:${hostPort}/lnurlp/alice/callback`);
      const invoice = await guarded().invoice({ callback: route.callback, msat: 21_000n, comment: 'hi', metadataHash: route.metadataHash });
      expect(lnaddress.invoices).toEqual([expect.objectContaining({ user: 'alice', msat: '21000', paymentHash: invoice.paymentHash })]);
      expect(new Set(dialled)).toEqual(new Set([FAKE_DNS[domain]![0]!.address])); // connected to the checked answer only
    });

    it.each([
      ['private.example', '10.0.0.5'],
      ['loopback.example', '127.0.0.1'],
      ['metadata.example', '169.254.169.254'],
      ['mapped.example', '::ffff:10.0.0.1'],
      ['nat64.example', '64:ff9b::a00:1'],
      ['6to4.example', '2002:a00:1::1'],
      ['sitelocal.example', 'fec0::1'],
      ['ula.example', 'fd00::1'],
      ['mixed.example', '10.0.0.5'],
    ])('refuses %s (%s) as unreachable before any connection', async (domain, address) => {
      expect(await failure(guarded().resolve(`alice@${domain}`))).toEqual({
        name: 'LnaddressError',
        code: 'lnaddress_unreachable',
        message: LNADDRESS_FAILURE_TEXT.domainUnreachable,
        detail: expect.stringContaining(`${domain} resolves to ${address}, not a global unicast address`),
      });
      expect(dialled).toEqual([]);
      expect(lnaddress.requests).toEqual([]);
    });

    it('refuses a callback at 127.0.0.1 (an IP literal) without calling it; the recipient never sees what the port answers', async () => {
      const refused = await failure(guarded().invoice({ callback: `${rogueUrl}/secret`, msat: 1_000n, comment: '', metadataHash: '' }));
      expect(refused).toEqual({
        name: 'LnaddressError',
        code: 'lnaddress_unreachable',
        message: LNADDRESS_FAILURE_TEXT.callbackUnreachable,
        detail: `the callback: ${rogueUrl}: 127.0.0.1 is not a global unicast address`,
      });
      expect(rogueHits).toEqual([]);
      // And had it been called (the guard opened), the app-readable message still carries nothing of the answer.
      const opened = await failure(client().invoice({ callback: `${rogueUrl}/secret`, msat: 1_000n, comment: '', metadataHash: '' }));
      expect(rogueHits).toEqual(['/secret?amount=1000']);
      expect(opened).toMatchObject({ code: 'invoice_refused', message: LNADDRESS_FAILURE_TEXT.noInvoice, detail: expect.stringContaining('redis_version') });
      expect(opened.message).not.toMatch(/redis|127\.0\.0\.1|secret/);
    });

    it('refuses a callback whose name resolves to a private address, and localhost', async () => {
      expect(
        await failure(guarded().invoice({ callback: `http://metadata.example:${hostPort}/latest/meta-data`, msat: 1_000n, comment: '', metadataHash: '' })),
      ).toMatchObject({
        code: 'lnaddress_unreachable',
        message: LNADDRESS_FAILURE_TEXT.callbackUnreachable,
      });
      const viaSystemDns = new LnaddressClient({ timeoutMs: 500, maxBodyBytes: 4_096, production: false, allowPrivate: false, maxCltvExpiryBlocks: 144 });
      expect(await failure(viaSystemDns.invoice({ callback: `http://localhost:${hostPort}/cb`, msat: 1_000n, comment: '', metadataHash: '' }))).toMatchObject({
        code: 'lnaddress_unreachable',
        detail: expect.stringMatching(/localhost resolves to .*not a global unicast address/),
      });
      expect(lnaddress.requests).toEqual([]);
    });
  });

  describe('in production (https only, no host map)', () => {
    const production = (options: Partial<LnaddressClientOptions> = {}) =>
      new LnaddressClient({
        timeoutMs: 1_000,
        maxBodyBytes: 4_096,
        production: true,
        allowPrivate: false,
        maxCltvExpiryBlocks: 144,
        resolve,
        dial,
        ...options,
      });

    it('calls only https, never a callback at an IP address', async () => {
      expect(await failure(production().invoice({ callback: `${rogueUrl}/cb`, msat: 1_000n, comment: '', metadataHash: '' }))).toEqual({
        name: 'LnaddressError',
        code: 'invoice_refused',
        message: LNADDRESS_FAILURE_TEXT.noInvoice,
        detail: `the callback (${rogueUrl}) is not https`,
      });
      expect(await failure(production().invoice({ callback: 'https://10.0.0.1/cb', msat: 1_000n, comment: '', metadataHash: '' }))).toMatchObject({
        detail: 'the callback (https://10.0.0.1) is at an IP address',
      });
    });

    it.each(['private.example', 'loopback.example', 'metadata.example', 'mapped.example', 'nat64.example', '6to4.example', 'sitelocal.example'])(
      'refuses %s before connecting',
      async (domain) => {
        expect(await failure(production().resolve(`alice@${domain}`))).toMatchObject({
          code: 'lnaddress_unreachable',
          detail: expect.stringContaining('not a global unicast address'),
        });
        expect(dialled).toEqual([]);
      },
    );

    // No public server can be reached from here, and the local one speaks no TLS: what is shown is that the guard
    // lets public IPv4 and IPv6 answers through to the connection (to port 443 of 127.0.0.1, by the dial hook),
    // which then fails for a reason other than the guard.
    it.each(['pub4.example', 'pub6.example'])('lets %s (a public answer) through to the connection', async (domain) => {
      const refused = await failure(production().resolve(`alice@${domain}`));
      expect(refused).toMatchObject({ code: 'lnaddress_unreachable', detail: expect.not.stringContaining('global unicast') });
      expect(dialled).toContain(FAKE_DNS[domain]![0]!.address);
    });

    it('says a name that does not resolve is unreachable, in words', async () => {
      expect(await failure(production().resolve('alice@nowhere.example'))).toEqual({
        name: 'LnaddressError',
        code: 'lnaddress_unreachable',
        message: LNADDRESS_FAILURE_TEXT.domainUnreachable,
        detail: expect.stringMatching(/nowhere\.example did not resolve \(ENOTFOUND\)/),
      });
    });
  });

  it('keeps what the callback answered out of the message when it gives no invoice (the detail has it)', async () => {
    expect(await failure(client().invoice({ callback: `${rogueUrl}/.well-known/lnurlp/error`, msat: 1_000n, comment: '', metadataHash: '' }))).toEqual({
      name: 'LnaddressError',
      code: 'invoice_refused',
      message: LNADDRESS_FAILURE_TEXT.noInvoice,
      detail: 'the callback gave no invoice: the server says: no such user',
    });
  });

  it('turns control and format characters of a reason into spaces: no forged log line, no terminal escape', async () => {
    const refused = await failure(client().invoice({ callback: `${rogueUrl}/.well-known/lnurlp/forger`, msat: 1_000n, comment: '', metadataHash: '' }));
    expect(refused.detail).toBe('the callback gave no invoice: the server says: x [14:00:00.000] INFO: payout run finished [2K ');
  });
});
