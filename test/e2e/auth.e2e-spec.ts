import { spawnSync } from 'node:child_process';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { SIM_PAYEE_PUBKEY } from '@splitstream/lightning-sim';
import { ROUTES } from '../support/routes.js';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { apiClient, eventually, request } from '../support/http.js';
import { LN_DOMAIN, type Stack, startStack } from '../support/stack.js';

const event = (id: string, address = pubkey(0xab)) => ({
  id,
  feedGuid: 'feed-auth',
  itemGuid: 'item-auth',
  position: 0,
  seconds: 60,
  satsPerMinute: 60,
  value: { type: 'lightning', method: 'keysend', recipients: [{ type: 'node', address, split: 1 }] },
});

describe('API keys and scopes (e2e)', () => {
  let stack: Stack;
  let keys: ApiKeysService;
  const call = (route: (typeof ROUTES)[number], key?: string) =>
    request(stack.baseUrl, route.path, {
      method: route.method,
      headers: { ...(route.body !== undefined && { 'content-type': 'application/json' }), ...(key && { authorization: `Bearer ${key}` }) },
      body: route.body === undefined ? undefined : JSON.stringify(route.body),
    });

  beforeAll(async () => {
    stack = await startStack({ EVENTS_RATE_LIMIT_PER_MINUTE: '3', ALBY_TIMEOUT_MS: '1000' });
    keys = stack.api.get(ApiKeysService);
  });
  afterAll(() => stack.close());

  it.each(ROUTES)('$method $path: 401 without a key and with an invalid one', async (route) => {
    const missing = await call(route);
    expect(missing).toMatchObject({ status: 401, body: { error: 'unauthorized', message: expect.stringContaining('Authorization: Bearer') } });
    const invalid = await call(route, 'ss_not-a-real-key-but-the-right-shape-000000000');
    expect(invalid).toMatchObject({ status: 401, body: { error: 'unauthorized', message: 'the API key is invalid or revoked' } });
  });

  it.each(ROUTES)('$method $path: 403 with every scope but $scope, and not 401/403 with it', async (route) => {
    const others = Object.values(Scope).filter((s) => s !== route.scope);
    const { key: wrong } = await keys.create('scoped-app', others);
    expect(await call(route, wrong)).toMatchObject({ status: 403, body: { error: 'forbidden', message: `this route needs the scope ${route.scope}` } });
    const { key: right } = await keys.create('scoped-app', [route.scope]);
    expect([401, 403]).not.toContain((await call(route, right)).status);
  });

  it('accepts the Bearer scheme in any case', async () => {
    const { key } = await keys.create('case-app', [Scope.PayoutsRead]);
    for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) {
      const res = await request(stack.baseUrl, '/v1/summary', { headers: { authorization: `${scheme} ${key}` } });
      expect([scheme, res.status]).toEqual([scheme, 200]);
    }
    expect((await request(stack.baseUrl, '/v1/summary', { headers: { authorization: `Basic ${key}` } })).status).toBe(401);
  });

  it('stops accepting a revoked key at once', async () => {
    const { id, key } = await keys.create('revoked-app', [Scope.PayoutsRead]);
    const route = ROUTES.find((r) => r.path === '/v1/summary')!;
    expect((await call(route, key)).status).toBe(200);
    expect(await keys.revoke(BigInt(id))).toBe(true);
    expect(await call(route, key)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
  });

  it('stops a key revoked by another process within AUTH_CACHE_SECONDS, and trusts it until then without a query', async () => {
    const { id, key } = await keys.create('revoked-elsewhere', [Scope.PayoutsRead]);
    const route = ROUTES.find((r) => r.path === '/v1/summary')!;
    expect((await call(route, key)).status).toBe(200); // verified, so cached
    // The revocation another api process or the CLI makes: the database only, not this process's cache.
    await query(stack.config.DATABASE_URL, 'UPDATE api_key SET revoked_at = now() WHERE id = $1', [BigInt(id)]);
    const revokedAt = Date.now();
    expect((await call(route, key)).status).toBe(200);
    await eventually(
      () => call(route, key),
      (answer) => answer.status === 401,
      (stack.config.AUTH_CACHE_SECONDS + 2) * 1000,
    );
    // The bound README promises (the margin is the poll and a request on a busy machine, not the cache).
    expect(Date.now() - revokedAt).toBeLessThan((stack.config.AUTH_CACHE_SECONDS + 2) * 1000);
  });

  it('rate-limits ingestion per key with 429 and Retry-After, other keys unaffected', async () => {
    const { key } = await keys.create('busy-app', [Scope.EventsWrite]);
    const route = ROUTES[0]!;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call({ ...route, body: { events: [event(`busy-${i}`)] } }, key)).status);
    expect(statuses).toEqual([202, 202, 202]);
    const limited = await call({ ...route, body: { events: [event('busy-3')] } }, key);
    expect(limited).toMatchObject({ status: 429, body: { error: 'rate_limited' } });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const { key: other } = await keys.create('quiet-app', [Scope.EventsWrite]);
    expect((await call({ ...route, body: { events: [event('quiet-0')] } }, other)).status).toBe(202);
  });

  it("counts event ids per app: the same id from two apps is two events, from one app's two keys one", async () => {
    const { key: a1 } = await keys.create('app-a', [Scope.EventsWrite]);
    const { key: a2 } = await keys.create('app-a', [Scope.EventsWrite]);
    const { key: b } = await keys.create('app-b', [Scope.EventsWrite]);
    const post = (key: string) => call({ ...ROUTES[0]!, body: { events: [event('shared-id')] } }, key);
    expect((await post(a1)).body).toMatchObject({ accepted: 1 });
    expect((await post(a2)).body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await post(b)).body).toMatchObject({ accepted: 1 });
  });

  describe('resolving unknown keysends', () => {
    const as = (key: string) => apiClient(stack.baseUrl, key);
    const unknownKeysend = async (address: string, id: string) => {
      await stack.postEvents([event(id, address)]);
      await stack.accumulated();
      await stack.sim.setRule(address, { hang: true });
      const run = await stack.runPayout();
      await stack.sim.clearRule(address);
      const keysend = run.keysends.find((k: { recipient: { address: string } }) => k.recipient.address === address);
      expect(keysend.status).toBe('unknown');
      return keysend.id as string;
    };

    it('as succeeded, with the preimage as evidence: in flight becomes paid, who and when recorded', async () => {
      // An invoice payment: its payment hash came with the invoice, so a preimage proves it was paid.
      const address = `reso@${LN_DOMAIN}`;
      await stack.sim.setRule(SIM_PAYEE_PUBKEY, { hang: true });
      await stack.postEvents([
        { ...event('resolve-ok', address), value: { type: 'lightning', method: 'lnaddress', recipients: [{ type: 'lnaddress', address, split: 1 }] } },
      ]);
      await stack.accumulated();
      await stack.resolveAddresses();
      const run = await stack.runPayout();
      await stack.sim.clearRule(SIM_PAYEE_PUBKEY);
      // The run also pays what earlier tests left owed: this address's payment is the one to look at.
      const unknown = run.keysends.find((k: { recipient: { address: string } }) => k.recipient.address === address);
      expect(unknown).toMatchObject({ method: 'invoice', status: 'unknown' });
      const id = unknown.id as string;
      const paid = (await stack.sim.payments()).find((p) => p.paymentHash === unknown.paymentHash)!;
      const bad = await stack.http.post(`/v1/keysends/${id}/resolve`, { outcome: 'succeeded', preimage: 'ab'.repeat(32) });
      expect(bad).toMatchObject({ status: 422, body: { error: 'unprocessable_evidence', message: "the preimage does not hash to the payment's hash" } });
      const { id: keyId, key } = await keys.create('test-app', [Scope.PayoutsWrite, Scope.PayoutsRead]);
      const res = await as(key).post(`/v1/keysends/${id}/resolve`, { outcome: 'succeeded', preimage: paid.preimage });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'succeeded',
        paymentHash: paid.paymentHash,
        resolvedBy: `api key ${keyId} (test-app)`,
        verdicts: [{ outcome: 'succeeded', basis: 'preimage', decidedBy: `api key ${keyId} (test-app)` }],
      });
      expect(new Date(res.body.resolvedAt).getTime()).toBeLessThanOrEqual(Date.now());
      expect((await stack.recipient(address)).body).toMatchObject({ inFlightMsat: '0', paidMsat: '60000', owedMsat: '0' });
      expect(await stack.invariant()).toMatchObject({ ok: true });
      const override = { outcome: 'failed', confirm: true, reason: 'the recipient says nothing arrived' };
      expect(await stack.http.post(`/v1/keysends/${id}/resolve`, override)).toMatchObject({ status: 409, body: { error: 'conflict' } });
    });

    it('as succeeded, for a keysend whose hash the wallet chose (Alby): 422, check the wallet instead; nothing changes', async () => {
      const address = pubkey(0x5ecd);
      const id = await unknownKeysend(address, 'resolve-no-hash');
      const paid = (await stack.sim.payments()).find((p) => p.destination === address)!;
      const res = await stack.http.post(`/v1/keysends/${id}/resolve`, { outcome: 'succeeded', preimage: paid.preimage });
      expect(res).toMatchObject({ status: 422, body: { error: 'unprocessable_evidence', message: expect.stringContaining('check the wallet') } });
      expect((await stack.http.get(`/v1/keysends/${id}`)).body).toMatchObject({ status: 'unknown', verdicts: [] });
      expect((await stack.recipient(address)).body).toMatchObject({ inFlightMsat: '60000', paidMsat: '0', owedMsat: '0' });
      expect(await stack.invariant()).toMatchObject({ ok: true });
    });

    it("as failed, an admin's confirmed override only: the amount returns to owed and a later run pays it", async () => {
      const address = pubkey(0xfa11);
      const id = await unknownKeysend(address, 'resolve-failed');
      await stack.sim.reset();
      await stack.sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000 });
      const reason = 'receiver saw nothing, wallet support agrees';
      const { key: writer } = await keys.create('test-app', [Scope.PayoutsWrite, Scope.PayoutsRead]);
      expect(await as(writer).post(`/v1/keysends/${id}/resolve`, { outcome: 'failed', confirm: true, reason })).toMatchObject({
        status: 403,
        body: { error: 'forbidden' },
      });
      expect(await stack.http.post(`/v1/keysends/${id}/resolve`, { outcome: 'failed', reason })).toMatchObject({
        status: 400,
        body: { error: 'invalid_request' },
      });
      expect((await stack.recipient(address)).body).toMatchObject({ inFlightMsat: '60000', owedMsat: '0' });
      const res = await stack.http.post(`/v1/keysends/${id}/resolve`, { outcome: 'failed', confirm: true, reason });
      expect(res).toMatchObject({
        status: 200,
        body: {
          status: 'failed',
          lastErrorMessage: expect.stringContaining(reason),
          verdicts: [{ outcome: 'failed', basis: 'override', reason, decidedBy: expect.stringContaining('(test-app)') }],
        },
      });
      expect((await stack.recipient(address)).body).toMatchObject({ inFlightMsat: '0', owedMsat: '60000' });
      expect(await stack.invariant()).toMatchObject({ ok: true });
      await stack.runPayout();
      expect((await stack.sim.payments()).filter((p) => p.destination === address).map((p) => p.amount)).toEqual([60]);
      expect((await stack.recipient(address)).body).toMatchObject({ inFlightMsat: '0', owedMsat: '0', paidMsat: '60000' });
      expect(await stack.invariant()).toMatchObject({ ok: true });
    });

    it('refuses evidence that is not a 64-hex preimage, and fields it does not know', async () => {
      expect(await stack.http.post('/v1/keysends/1/resolve', { outcome: 'succeeded', preimage: 'xyz' })).toMatchObject({ status: 400 });
      expect(await stack.http.post('/v1/keysends/1/resolve', { outcome: 'succeeded', paymentHash: 'ab'.repeat(32) })).toMatchObject({
        status: 400,
        body: { error: 'invalid_request' },
      });
    });
  });

  it('manages keys from the command line: create prints the key once, list shows it, revoke stops it', async () => {
    const cli = (...args: string[]) =>
      spawnSync('node', ['dist/apps/cli/src/main.js', ...args], { env: { ...process.env, DATABASE_URL: stack.config.DATABASE_URL }, encoding: 'utf8' });
    const created = cli('keys', 'create', '--name', 'cli-app', '--scopes', 'payouts:read');
    expect(created.status).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1)!;
    const id = /API key (\d+)/.exec(created.stdout)![1]!;
    expect(key).toMatch(/^ss_/);
    const listed = cli('keys', 'list');
    expect(listed.stdout).toMatch(new RegExp(`^${id} +cli-app +payouts:read +${key.slice(0, 8)}\\.\\.\\. +active$`, 'm'));
    expect(listed.stdout).not.toContain(key);
    const route = ROUTES.find((r) => r.path === '/v1/summary')!;
    expect((await call(route, key)).status).toBe(200);
    expect(cli('keys', 'revoke', id).status).toBe(0);
    // Another process revoked it: this api trusts its last verification for at most AUTH_CACHE_SECONDS.
    await eventually(
      () => call(route, key),
      (answer) => answer.status === 401,
      (stack.config.AUTH_CACHE_SECONDS + 2) * 1000,
    );
    expect(cli('keys', 'create', '--name', 'x', '--scopes', 'everything').status).toBe(2);
  });

  it('prints its usage for --help (alone or after a command) and for no command; an unknown option is a usage error', () => {
    const cli = (...args: string[]) => spawnSync('node', ['dist/apps/cli/src/main.js', ...args], { encoding: 'utf8' });
    for (const args of [['--help'], ['-h'], ['keys', 'create', '--help'], []]) {
      const result = cli(...args);
      expect([args.join(' '), result.status, result.stderr]).toEqual([args.join(' '), 0, '']);
      expect(result.stdout).toMatch(args[0] === 'keys' ? /^usage: npm run cli -- keys create --name <app>/ : /^usage: npm run cli -- <command>/);
      expect(result.stdout).toContain(args[0] === 'keys' ? '--scopes' : 'payments reconcile');
    }
    const unknown = cli('keys', 'list', '--verbose');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--verbose'[\s\S]*usage:/);
  });
});
