import { spawnSync } from 'node:child_process';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { TenantsService } from '@splitstream/tenants';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { apiClient, eventually } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const node = (name: string, address: string, split: number) => ({ name, type: 'node', address, split });
const event = (id: string, recipients: object[], more: Record<string, unknown> = {}) => ({
  id,
  feedGuid: 'feed-t',
  itemGuid: 'ep-1',
  position: 0,
  seconds: 60,
  satsPerMinute: 100,
  value: { type: 'lightning', method: 'keysend', recipients },
  ...more,
});

// Two apps on one service, each attacking the other as issue 20 found possible (points 4 to 6), then the proof that
// the other app is unaffected and paid in the very next run. App A and app B hold app keys (their own data only);
// the stack's key is an admin's.
describe('tenancy: no app rewrites, sees or unparks another app’s payouts (e2e)', () => {
  let stack: Stack;
  let a: ReturnType<typeof apiClient>;
  let b: ReturnType<typeof apiClient>;
  const admin = () => stack.http;
  const appScopes = [Scope.EventsWrite, Scope.PayoutsRead, Scope.PayoutsWrite];
  const post = async (client: ReturnType<typeof apiClient>, events: object[]) => {
    const res = await client.post('/v1/events', { events });
    expect(res.status).toBe(202);
  };
  const recipientAs = async (client: ReturnType<typeof apiClient>, address: string) => {
    const res = await client.get(`/v1/recipients?address=${address}`);
    expect(res.status).toBe(200);
    return res.body.recipients[0];
  };
  const paymentsTo = async (address: string) => (await stack.sim.payments()).filter((p) => p.destination === address);

  beforeAll(async () => {
    stack = await startStack({ MAX_ATTEMPTS: '1', PAYOUT_RUN_RATE_LIMIT_PER_MINUTE: '1000' });
    const keys = stack.api.get(ApiKeysService);
    a = apiClient(stack.baseUrl, (await keys.create('app-a', appScopes)).key);
    b = apiClient(stack.baseUrl, (await keys.create('app-b', appScopes)).key);
    const tenants = stack.api.get(TenantsService);
    await tenants.setName('app-a', 'A Podcasts');
    await tenants.setName('app-b', 'B Radio');
  }, 60_000);
  afterAll(() => stack?.close());

  it("(4) B's titles, url and names for A's episode and recipient never reach A's payments, statement or views", async () => {
    const host = pubkey(0x7e4a);
    await post(a, [event('e-1', [node('Alice (A)', host, 1)], { feedTitle: 'A Show', itemTitle: 'A Episode', feedUrl: 'https://a.example/feed.xml' })]);
    await stack.accumulated();
    // The attack: the same episode and recipient, 1 sat, with phishing metadata, after A's event.
    const phishing = { feedTitle: '=HYPERLINK("https://phish.example")', itemTitle: 'Claim your sats', feedUrl: 'https://phish.example/claim-your-sats' };
    await post(b, [event('e-1', [node('Send sats to phish.example', host, 1)], { ...phishing, satsPerMinute: 1 })]);
    await stack.accumulated();

    const run = await stack.runPayout();
    expect(run.status).toBe('completed');
    const records = (await paymentsTo(host)).map((p) => [p.amount, p.blip10!.podcast, p.blip10!.episode, p.blip10!.url, p.blip10!.name, p.blip10!.app_name]);
    expect(records.sort()).toEqual([
      [1, phishing.feedTitle, phishing.itemTitle, phishing.feedUrl, 'Send sats to phish.example', 'B Radio'],
      [100, 'A Show', 'A Episode', 'https://a.example/feed.xml', 'Alice (A)', 'A Podcasts'],
    ]);

    // What A reads: its own names and titles only, everywhere.
    const mine = await recipientAs(a, host);
    expect(mine).toMatchObject({ name: 'Alice (A)', paidMsat: '100000' });
    expect(mine).not.toHaveProperty('apps');
    const statement = (await a.get(`/v1/recipients/${mine.id}/statement`)).body;
    expect(statement.recipient.name).toBe('Alice (A)');
    expect(statement.episodes).toEqual([expect.objectContaining({ feedTitle: 'A Show', itemTitle: 'A Episode', paidMsat: '100000' })]);
    expect(statement.feeds).toEqual([expect.objectContaining({ feedTitle: 'A Show' })]);
    const csv = (await a.get(`/v1/recipients/${mine.id}/statement`, { accept: 'text/csv' })).body as string;
    expect((await a.get('/v1/feeds/feed-t/summary')).body).toMatchObject({ feedTitle: 'A Show', recipients: [{ name: 'Alice (A)' }] });
    expect((await a.get('/v1/events/e-1')).body.allocations[0].recipient.name).toBe('Alice (A)');
    expect((await a.get(`/v1/payments?recipient=${mine.id}`)).body.keysends.map((k: any) => [k.app, k.recipient.name])).toEqual([['app-a', 'Alice (A)']]);
    for (const shown of [mine, statement, csv, (await a.get('/v1/feeds/feed-t/summary')).body]) expect(JSON.stringify(shown)).not.toMatch(/phish/i);

    // B reads its own; the admin, every app's.
    expect(await recipientAs(b, host)).toMatchObject({ name: 'Send sats to phish.example', paidMsat: '1000' });
    const all = await recipientAs(admin(), host);
    expect(all.apps.map((x: any) => [x.app, x.name, x.paidMsat])).toEqual([
      ['app-a', 'Alice (A)', '100000'],
      ['app-b', 'Send sats to phish.example', '1000'],
    ]);
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it("(5) A's recipient parked: B, paying the same node, sees none of A's errors, cannot unpark A's money, and is paid", async () => {
    const shared = pubkey(0x7e5b);
    await stack.sim.setRule(shared, { fail: { code: 2, message: 'invalid destination pubkey' } });
    await post(a, [event('e-5a', [node('Shared (A)', shared, 1)], { itemGuid: 'ep-5', satsPerMinute: 500 })]);
    await stack.accumulated();
    expect((await stack.runPayout()).totals).toMatchObject({ keysends: 1, failed: 1 });
    const parkedForA = { state: 'parked', parked: true, lastErrorCode: '2', lastErrorMessage: 'invalid destination pubkey', parkedMsat: '500000' };
    expect(await recipientAs(a, shared)).toMatchObject(parkedForA);

    // The attack: B sends 16 sats to the same node, then unparks it.
    await post(b, [event('e-5b', [node('Shared (B)', shared, 1)], { itemGuid: 'ep-5', satsPerMinute: 16 })]);
    await stack.accumulated();
    const seenByB = await recipientAs(b, shared);
    expect(seenByB).toMatchObject({ name: 'Shared (B)', state: 'active', parked: false, consecutiveFailures: 0, lastErrorCode: null, lastErrorMessage: null });
    expect(seenByB).toMatchObject({ owedMsat: '16000', parkedMsat: '0' });
    expect(JSON.stringify(seenByB)).not.toMatch(/invalid destination|Shared \(A\)/);
    expect((await b.get('/v1/payments?status=parked')).body.keysends).toEqual([]);
    // B never had it parked: nothing changes, and the answer says so.
    const unparked = await b.post('/v1/recipients/unpark', { address: shared });
    expect(unparked).toMatchObject({ status: 200, body: { changed: false, state: 'active', owedMsat: '16000', parkedMsat: '0' } });
    for (const body of [
      { address: shared, app: 'app-a' },
      { address: shared, allApps: true },
    ]) {
      expect(await b.post('/v1/recipients/unpark', body)).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    }
    expect(await recipientAs(a, shared)).toMatchObject(parkedForA);

    // B is paid in the next run; A's parked money is neither sent nor touched.
    await stack.sim.clearRule(shared);
    const run = await stack.runPayout();
    expect(run.totals).toMatchObject({ keysends: 1, succeeded: 1, paidSats: 16 });
    expect((await paymentsTo(shared)).map((p) => [p.amount, p.blip10!.app_name])).toEqual([[16, 'B Radio']]);
    expect(await recipientAs(b, shared)).toMatchObject({ state: 'active', paidMsat: '16000', owedMsat: '0' });
    expect(await recipientAs(a, shared)).toMatchObject(parkedForA);

    // The admin sees both apps' states, and unparks A's by naming it.
    const all = await recipientAs(admin(), shared);
    expect(all).toMatchObject({ state: 'parked', lastErrorCode: '2', lastErrorMessage: 'invalid destination pubkey' });
    expect(all).toHaveProperty('lastErrorDetail');
    expect(seenByB).not.toHaveProperty('lastErrorDetail');
    expect(all.apps.map((x: any) => [x.app, x.state, x.parkedMsat])).toEqual([
      ['app-a', 'parked', '500000'],
      ['app-b', 'active', '0'],
    ]);
    // Without `app`, the admin key's own app (test-app), which has no money for it: the answer says what to do.
    expect(await admin().post('/v1/recipients/unpark', { address: shared })).toMatchObject({
      status: 404,
      body: {
        error: 'not_found',
        message: expect.stringMatching(/^app "test-app" has no money for this recipient: .*\(app\), or every app \(allApps: true\)$/),
      },
    });
    expect(await recipientAs(a, shared)).toMatchObject(parkedForA);
    expect(await admin().post('/v1/recipients/unpark', { address: shared, app: 'app-a' })).toMatchObject({
      status: 200,
      body: { changed: true, state: 'active' },
    });
    expect(await admin().post('/v1/recipients/unpark', { address: shared, allApps: true })).toMatchObject({ status: 200, body: { changed: false } });
    expect(await recipientAs(a, shared)).toMatchObject({ state: 'active', parked: false, parkedMsat: '0', owedMsat: '500000' });
    expect((await stack.runPayout()).totals).toMatchObject({ keysends: 1, succeeded: 1, paidSats: 500 });
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it("(6) B cannot claim A's app_name, runs asked for at once start one, and an admin reads B's event by id", async () => {
    const listener = pubkey(0x7e6c);
    // The attack: B's event says it comes from A.
    await post(b, [event('e-6', [node('Six', listener, 1)], { itemGuid: 'ep-6', appName: 'A Podcasts', appVersion: '6.6' })]);
    await stack.accumulated();
    // Nor can B be given A's name (or A's id) as its own.
    const tenants = stack.api.get(TenantsService);
    await expect(tenants.setName('app-b', 'A Podcasts')).rejects.toMatchObject({ code: 'conflict' });
    await expect(tenants.setName('app-b', 'app-a')).rejects.toMatchObject({ code: 'conflict' });
    // In any letter case, and with spaces around.
    for (const lookalike of ['a podcasts', ' A PODCASTS ', 'APP-A'])
      await expect(tenants.setName('app-b', lookalike)).rejects.toMatchObject({ code: 'conflict' });
    expect((await b.get('/v1/apps/me')).body).toMatchObject({ app: 'app-b', name: 'B Radio' });

    // 15 requests at once while the first run is slowed down by its payment: one run, the others answer it.
    await stack.sim.setRule(listener, { delayMs: 3_000 });
    const asked = await Promise.all(Array.from({ length: 15 }, () => b.post('/v1/payouts/run', {})));
    const started = asked.filter((r) => r.status === 202);
    expect(started).toHaveLength(1);
    expect(started[0]!.body).toMatchObject({ status: 'queued', started: true });
    const id = started[0]!.body.id;
    for (const other of asked.filter((r) => r.status !== 202)) {
      expect(other).toMatchObject({ status: 200, body: { id, started: false, message: expect.stringContaining(`payout run ${id} is already`) } });
    }
    const run = await eventually(
      () => b.get(`/v1/payouts/${id}`),
      (r) => r.body.status !== 'queued' && r.body.status !== 'running',
      15_000,
    );
    expect(run.body).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    // No other run since.
    expect((await b.get('/v1/payouts?limit=100')).body.payouts.map((p: { id: string }) => p.id).filter((other: string) => BigInt(other) >= BigInt(id))).toEqual(
      [id],
    );
    expect((await paymentsTo(listener)).map((p) => [p.blip10!.app_name, p.blip10!.app_version])).toEqual([['B Radio', '6.6']]);

    // Event ids are per app: A has an e-6 of its own (unlike B's, yet no conflict: B's is invisible to A); the admin
    // names whose it reads.
    expect((await a.post('/v1/events', { events: [event('e-6', [node('Six', listener, 1)], { itemGuid: 'ep-6' })] })).body).toMatchObject({
      accepted: 1,
      conflicts: 0,
    });
    const ofB = await admin().get('/v1/events/e-6?app=app-b');
    expect(ofB).toMatchObject({ status: 200, body: { id: 'e-6', app: 'app-b', amountMsat: '100000', allocations: [{ recipient: { name: 'Six' } }] } });
    expect(ofB.body.keysends.map((k: any) => [k.app, k.status])).toEqual([['app-b', 'succeeded']]);
    expect(await admin().get('/v1/events/e-6?app=app-a')).toMatchObject({ status: 200, body: { app: 'app-a', keysends: [] } });
    expect((await admin().get('/v1/events/e-6')).status).toBe(404); // the admin key's own app (test-app) has none
    // An app key reads its own only.
    expect(await a.get('/v1/events/e-6?app=app-b')).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect(await a.get('/v1/events/e-6')).toMatchObject({ status: 200, body: { app: 'app-a' } });
    expect(await b.get('/v1/events/e-6?app=app-b')).toMatchObject({ status: 200, body: { app: 'app-b' } });
  }, 30_000);

  it('app names: trimmed, without control characters, unique in any letter case, only for an app that has a key; keys follow the same rule', async () => {
    const tenants = stack.api.get(TenantsService);
    const keys = stack.api.get(ApiKeysService);
    await keys.create('app-d', appScopes);
    expect(await tenants.setName('app-d', '  Dee Cast \t')).toMatchObject({ app: 'app-d', name: 'Dee Cast' });
    for (const bad of ['Dee\nCast', 'Dee\u0000', '   ', 'x'.repeat(101)]) {
      await expect(tenants.setName('app-d', bad)).rejects.toMatchObject({ code: 'invalid_request' });
    }
    // A typo names no app (nor creates one that would then hold the name).
    await expect(tenants.setName('app-dd', 'Typo Cast')).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('no app "app-dd"') });
    await expect(tenants.setName('app-d', 'Typo Cast')).resolves.toMatchObject({ name: 'Typo Cast' });
    // A key for a new app named like another app's registered name or id, in any case, is refused; more keys for
    // an existing app are not.
    await expect(keys.create('typo cast', appScopes)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('registered name of app app-d'),
    });
    await expect(keys.create('APP-D', appScopes)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('app app-d in other letter case'),
    });
    await expect(keys.create('app-d', appScopes)).resolves.toMatchObject({ key: expect.any(String) });
  });

  it('registers an app name from the command line: refused when it is another app’s name or id or the app has no key, "none" goes back to the app id', async () => {
    await stack.api.get(ApiKeysService).create('app-c', appScopes);
    const cli = (...args: string[]) =>
      spawnSync('node', ['dist/apps/cli/src/main.js', 'apps', 'name', ...args], {
        env: { ...process.env, DATABASE_URL: stack.config.DATABASE_URL },
        encoding: 'utf8',
      });
    const named = cli('app-c', 'C Cast');
    expect([named.status, JSON.parse(named.stdout)]).toEqual([0, expect.objectContaining({ app: 'app-c', name: 'C Cast' })]);
    for (const taken of ['A Podcasts', 'app-b']) {
      const refused = cli('app-c', taken);
      expect([refused.status, refused.stderr]).toEqual([1, expect.stringContaining("is another app's")]);
    }
    const unknown = cli('no-such-app', 'Nobody');
    expect([unknown.status, unknown.stderr]).toEqual([1, expect.stringContaining('no app "no-such-app": it has no API key')]);
    // Nor can an app be created under another's registered name (its payments would carry it).
    const keys = spawnSync('node', ['dist/apps/cli/src/main.js', 'keys', 'create', '--name', 'A Podcasts', '--scopes', 'events:write'], {
      env: { ...process.env, DATABASE_URL: stack.config.DATABASE_URL },
      encoding: 'utf8',
    });
    expect([keys.status, keys.stderr]).toEqual([1, expect.stringContaining('is the registered name of app app-a')]);
    const reset = cli('app-c', 'none');
    expect([reset.status, JSON.parse(reset.stdout)]).toEqual([0, expect.objectContaining({ app: 'app-c', name: 'app-c' })]);
  });

  it("(7) B sees a run that paid only A's payments as skipped, nothing due for B, without A's status, note or end; empty= agrees", async () => {
    const [paid, dead, refusing] = [pubkey(0x7e7a), pubkey(0x7e7b), pubkey(0x7e7c)];
    await stack.sim.setRule(dead, { fail: { code: 10, message: 'FAILURE_REASON_NO_ROUTE' } });
    await post(a, [event('e-7a', [node('Paid (A)', paid, 1), node('Dead (A)', dead, 1)], { itemGuid: 'ep-7' })]);
    await stack.accumulated();
    const partial = await stack.runPayout(); // one of A's paid, one failed
    await stack.sim.setRule(refusing, { refuse: { code: 2, message: 'insufficient balance to pay A Podcasts' } });
    await post(a, [event('e-7b', [node('Refusing (A)', refusing, 1)], { itemGuid: 'ep-7' })]);
    await stack.accumulated();
    const failed = await stack.runPayout(); // the wallet refused the run: nothing of A's paid
    expect([partial.status, failed.status, failed.note]).toEqual(['partial', 'failed', expect.stringContaining('A Podcasts')]);

    const asB = { status: 'skipped', note: 'nothing due for this app', startedAt: null, totals: expect.objectContaining({ keysends: 0 }) };
    for (const run of [partial, failed]) {
      const seen = (await b.get(`/v1/payouts/${run.id}`)).body;
      expect(seen).toMatchObject({ ...asB, id: run.id, createdAt: run.createdAt, finishedAt: run.startedAt, keysends: [] });
      expect(JSON.stringify(seen)).not.toMatch(/A Podcasts|:"(partial|failed)"/);
    }
    const listed = async (client: ReturnType<typeof apiClient>, query = '') =>
      ((await client.get(`/v1/payouts${query}`)).body.payouts as { id: string }[]).filter((p) => [partial.id, failed.id].includes(p.id));
    expect(await listed(b)).toEqual([expect.objectContaining({ ...asB, id: failed.id }), expect.objectContaining({ ...asB, id: partial.id })]);
    expect((await listed(b, '?empty=true')).map((p) => p.id)).toEqual([failed.id, partial.id]);
    expect(await listed(b, '?empty=false')).toEqual([]);
    // A and the admin see the runs as they are.
    for (const client of [a, admin()]) {
      expect(await listed(client)).toEqual([
        expect.objectContaining({ id: failed.id, status: 'failed', note: failed.note }),
        expect.objectContaining({ id: partial.id, status: 'partial' }),
      ]);
      expect(await listed(client, '?empty=true')).toEqual([]);
    }

    // A run with B's payments shows to B as it is, with B's totals only.
    await stack.sim.clearRule(refusing);
    await post(b, [event('e-7c', [node('Paid (B)', paid, 1)], { itemGuid: 'ep-7' })]);
    await stack.accumulated();
    const mixed = await stack.runPayout();
    expect((await b.get(`/v1/payouts/${mixed.id}`)).body).toMatchObject({
      status: mixed.status,
      note: mixed.note,
      startedAt: mixed.startedAt,
      totals: { keysends: 1 },
    });
    expect((await listed(b, '?empty=false')).map((p) => p.id)).toEqual([]); // the earlier two stay empty for B
    await stack.sim.clearRule(dead);
  });
});
