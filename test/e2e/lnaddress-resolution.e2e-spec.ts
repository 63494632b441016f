import type { INestApplication } from '@nestjs/common';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { AddressResolution, resolutionFingerprint } from '@splitstream/payouts';
import { createWorker } from '../../apps/worker/src/create-worker.js';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { PrismaService } from '@splitstream/persistence';
import { query } from '../support/database.js';
import { apiClient, eventually, listen } from '../support/http.js';
import { seedAddresses } from '../support/ledger-seed.js';
import { SilentDomain } from '../support/silent-domain.js';
import { type Sim, startSimulator } from '../support/alby-sim.js';
import { SlowDomain } from '../support/slow-domain.js';
import { DEAD_LN_DOMAIN, LN_DOMAIN, type Stack, startStack } from '../support/stack.js';

const SLOW_DOMAIN = 'slow.test';
const TIMEOUT_MS = 2_000;
const BREAKER_FAILURES = 3;
const CONCURRENCY = 2;
const ADDRESSES = 40;

const slow = (i: number) => `b${i}@${SLOW_DOMAIN}`;
// One minute of listening worth `sats`, shared by `recipients`.
const listening = (id: string, sats: number, method: string, recipients: object[]) => ({
  id,
  feedGuid: `feed-${id}`,
  itemGuid: `item-${id}`,
  feedTitle: 'Slow Show',
  itemTitle: `Episode ${id}`,
  position: 10,
  seconds: 60,
  satsPerMinute: sats,
  value: { type: 'lightning', method, recipients },
});

// An address's stored route (lnaddress_route), if any.
const storedRoute = async (stack: Stack, address: string) =>
  (
    await query<{ callback: string; fingerprint: string; resolved_at: Date; expires_at: Date }>(
      stack.config.DATABASE_URL,
      'SELECT callback, fingerprint, resolved_at, expires_at FROM lnaddress_route WHERE address = $1',
      [address],
    )
  )[0];

// A payout run the app starts with its own key, once it has finished.
async function runBy(app: ReturnType<typeof apiClient>) {
  const started = await app.post('/v1/payouts/run', {});
  expect(started.status).toBe(202);
  const done = await eventually(
    () => app.get(`/v1/payouts/${started.body.id}`),
    (r) => r.status === 200 && r.body.finishedAt !== null,
    20_000,
  );
  return done.body;
}

// Issue 20, point 3: app B's 40 Lightning addresses are on a domain that accepts connections and never answers.
// Resolution is a worker job of its own: app A's node recipient is paid as soon as a run starts, B's addresses
// show why they wait, the domain's breaker opens after LNADDRESS_BREAKER_FAILURES calls and no call reaches it
// while it is open, and once it answers again (after LNADDRESS_BREAKER_SECONDS) B's addresses are resolved and paid.
describe('Lightning-address resolution off the payout path (e2e, two apps)', () => {
  let silent: SilentDomain;
  let stack: Stack;
  let appA: ReturnType<typeof apiClient>;
  let appB: ReturnType<typeof apiClient>;
  const recipientsOfB = async () => {
    const res = await appB.get(`/v1/recipients?q=b&limit=100`);
    return (res.body.recipients as { address: string; owedMsat: string; paidMsat: string; waiting: { code: string; message: string } | null }[]).filter((r) =>
      r.address.endsWith(`@${SLOW_DOMAIN}`),
    );
  };

  beforeAll(async () => {
    silent = await SilentDomain.start();
    stack = await startStack({
      LNADDRESS_HOST_MAP: `${SLOW_DOMAIN}=${silent.url}`,
      LNADDRESS_TIMEOUT_MS: String(TIMEOUT_MS),
      LNADDRESS_RESOLVE_INTERVAL_SECONDS: '1',
      LNADDRESS_DOMAIN_CONCURRENCY: String(CONCURRENCY),
      LNADDRESS_BREAKER_FAILURES: String(BREAKER_FAILURES),
      // Long enough that no probe runs while the test counts calls (a busy machine may take seconds between steps);
      // the test ends the breaker's time itself when the domain recovers.
      LNADDRESS_BREAKER_SECONDS: '600',
      KEYSEND_BATCH_SIZE: '10',
    });
    const keys = stack.api.get(ApiKeysService);
    const app = [Scope.EventsWrite, Scope.PayoutsRead, Scope.PayoutsWrite];
    appA = apiClient(stack.baseUrl, (await keys.create('app-a', app)).key);
    appB = apiClient(stack.baseUrl, (await keys.create('app-b', app)).key);
  });
  afterAll(async () => {
    await stack.close();
    await silent.close();
  });

  it("pays app A at once while app B's domain hangs, says why B waits, opens the breaker, and pays B once the domain answers", async () => {
    // B: 40 addresses on the silent domain (4 events of 10), 10 sats each.
    for (let e = 0; e < 4; e++) {
      const recipients = Array.from({ length: 10 }, (_, i) => ({ name: `B${e * 10 + i}`, type: 'lnaddress', address: slow(e * 10 + i), split: 1 }));
      expect((await appB.post('/v1/events', { events: [listening(`b-${e}`, 100, 'lnaddress', recipients)] })).status).toBe(202);
    }
    await stack.accumulated();
    // The resolution job (every second) is now waiting on the domain.
    await eventually(
      async () => silent.connections,
      (n) => n >= 1,
      10_000,
    );

    // A: a node recipient, paid by a run A starts while B's domain hangs.
    expect(
      (await appA.post('/v1/events', { events: [listening('a-1', 21, 'keysend', [{ name: 'A', type: 'node', address: pubkey(0x2001), split: 1 }])] })).status,
    ).toBe(202);
    await stack.accumulated();
    const run = await runBy(appA);
    expect(run).toMatchObject({ status: 'completed' });
    const toA = run.keysends.find((k: { destination: string }) => k.destination === pubkey(0x2001));
    expect(toA).toMatchObject({ status: 'succeeded', amountSats: 21 });
    // The run's own clock: it never waited on the domain (one call to it costs TIMEOUT_MS).
    const startedAt = Date.parse(run.startedAt);
    expect(Date.parse(toA.sentAt) - startedAt).toBeLessThan(TIMEOUT_MS);
    expect(Date.parse(run.finishedAt) - startedAt).toBeLessThan(TIMEOUT_MS);
    expect((await stack.sim.payments()).map((p) => p.destination)).toEqual([pubkey(0x2001)]);

    // The breaker opens after BREAKER_FAILURES calls that got no answer (at most CONCURRENCY - 1 more were already
    // under way), each one call (the keysend endpoint, never LNURL-pay after it): one timeout per domain answer.
    const [domain] = await eventually(
      () =>
        query<{ consecutive_failures: number; open_until: Date | null }>(stack.config.DATABASE_URL, 'SELECT * FROM lnaddress_domain WHERE domain = $1', [
          SLOW_DOMAIN,
        ]),
      (rows) => rows[0]?.open_until != null && rows[0].consecutive_failures === silent.connections,
      20_000,
    );
    expect(domain!.consecutive_failures).toBeGreaterThanOrEqual(BREAKER_FAILURES);
    expect(domain!.consecutive_failures).toBeLessThanOrEqual(BREAKER_FAILURES + CONCURRENCY - 1);
    const callsWhenOpened = silent.connections;
    expect(callsWhenOpened).toBe(domain!.consecutive_failures);
    expect(silent.requestLines.every((l) => /^GET \/\.well-known\/keysend\/b\d+ HTTP/.test(l))).toBe(true);

    // B (its own key) reads why each of its addresses waits: the domain's breaker, until when; no detail.
    const waiting = await recipientsOfB();
    expect(waiting).toHaveLength(ADDRESSES);
    for (const r of waiting) {
      expect(r).toMatchObject({ owedMsat: '10000', paidMsat: '0', state: 'active', consecutiveFailures: 0 });
      expect(r.waiting).toEqual({
        code: 'lnaddress_domain_open',
        message: expect.stringMatching(/^the address's domain failed \d+ times in a row: it is not called until \d{4}-\d\d-\d\dT/),
      });
    }
    // An admin sees the failure in full.
    expect((await stack.recipient(slow(0))).body.waiting).toMatchObject({ code: 'lnaddress_domain_open', detail: expect.stringMatching(/timeout/) });

    // Resolution passes go on while the breaker is open, leaving the domain's addresses out: none reaches it.
    expect(await stack.resolveAddresses()).toMatchObject({ ran: true, resolved: 0, failed: 0, skipped: 0 });
    expect(silent.connections).toBe(callsWhenOpened);
    expect(await stack.runPayout()).toMatchObject({ totals: { keysends: 0 } });

    // The domain answers again (as the simulator's address host); once the breaker's time has passed, the next
    // resolution's probe closes it and every address is resolved, then paid by the next run.
    silent.recover(stack.sim.url);
    await query(stack.config.DATABASE_URL, "UPDATE lnaddress_domain SET open_until = now() - interval '1 second' WHERE domain = $1", [SLOW_DOMAIN]);
    await eventually(recipientsOfB, (rs) => rs.every((r) => r.waiting === null), 20_000);
    const paid = await stack.runPayout();
    expect(paid).toMatchObject({ status: 'completed', totals: { keysends: ADDRESSES, succeeded: ADDRESSES } });
    expect((await recipientsOfB()).map((r) => [r.owedMsat, r.paidMsat])).toEqual(Array.from({ length: ADDRESSES }, () => ['0', '10000']));
    expect(await stack.sim.lnaddress.invoices()).toHaveLength(ADDRESSES);
    expect(
      (await query<{ consecutive_failures: number; open_until: Date | null }>(stack.config.DATABASE_URL, 'SELECT * FROM lnaddress_domain'))[0],
    ).toMatchObject({
      consecutive_failures: 0,
      open_until: null,
    });
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it("sends a run's keysends before any invoice is asked for, and asks a hanging domain for invoices only until its breaker opens", async () => {
    // B's addresses have fresh LNURL-pay routes (the previous test) and are owed again; then their domain hangs.
    for (let e = 0; e < 4; e++) {
      const recipients = Array.from({ length: 10 }, (_, i) => ({ name: `B${e * 10 + i}`, type: 'lnaddress', address: slow(e * 10 + i), split: 1 }));
      expect((await appB.post('/v1/events', { events: [listening(`b2-${e}`, 100, 'lnaddress', recipients)] })).status).toBe(202);
    }
    expect(
      (await appA.post('/v1/events', { events: [listening('a-2', 21, 'keysend', [{ name: 'A', type: 'node', address: pubkey(0x2002), split: 1 }])] })).status,
    ).toBe(202);
    await stack.accumulated();
    expect((await recipientsOfB()).every((r) => r.waiting === null)).toBe(true);
    silent.silence();
    const callsBefore = silent.connections;

    const run = await stack.runPayout();
    expect(run).toMatchObject({ totals: { keysends: ADDRESSES + 1, succeeded: 1, cancelled: ADDRESSES, failed: 0 } });
    const toA = run.keysends.find((k: { destination: string }) => k.destination === pubkey(0x2002));
    expect(toA).toMatchObject({ status: 'succeeded', method: 'keysend' });
    expect(Date.parse(toA.sentAt) - Date.parse(run.startedAt)).toBeLessThan(TIMEOUT_MS);

    // Callbacks that got no answer count toward the breaker; once open, the rest are never asked (one call each).
    const codes = run.keysends.filter((k: { method: string }) => k.method === 'invoice').map((k: { lastErrorCode: string }) => k.lastErrorCode);
    const unanswered = codes.filter((c: string) => c === 'lnaddress_unreachable').length;
    expect(unanswered).toBeGreaterThanOrEqual(BREAKER_FAILURES);
    expect(unanswered).toBeLessThanOrEqual(BREAKER_FAILURES + CONCURRENCY - 1);
    expect(codes.filter((c: string) => c === 'lnaddress_domain_open')).toHaveLength(ADDRESSES - unanswered);
    expect(silent.connections - callsBefore).toBe(unanswered);

    // The domain's failure, not the recipients': none backs off, their money is owed again and they say why.
    for (const r of await recipientsOfB()) {
      expect(r).toMatchObject({ state: 'active', consecutiveFailures: 0, owedMsat: '10000', inFlightMsat: '0', paidMsat: '10000' });
      expect(r.waiting).toMatchObject({ code: 'lnaddress_domain_open' });
    }
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });
});

// The reviewer's attack: app B owes 1 sat to 5,000 addresses on a dead domain, each failed before (so each is due
// again), and to 300 on a domain that refuses every address, late. App A's new address on a healthy domain is
// still resolved and paid, and its route refreshed before it expires, again and again: the dead domain's addresses
// leave the resolution once its breaker opens, failed addresses wait their backoff behind the others, one domain
// gives a job at most its share, the apps take turns, and a job starts no call after its budget.
describe("Lightning-address resolution: no app's many, failing or slow addresses delay another's (e2e, two apps)", () => {
  const DEAD = 5_000;
  const SLOW = 300;
  const LATE_DOMAIN = 'late.test';
  let late: SlowDomain;
  let healthy: SilentDomain; // a plain forward to the simulator, once the stack runs
  let stack: Stack;
  let appA: ReturnType<typeof apiClient>;
  const zoe = `zoe@${LN_DOMAIN}`; // after every address of B's in the alphabet
  const routeOf = (address: string) => storedRoute(stack, address);
  const count = async (sql: string) => Number((await query<{ n: string }>(stack.config.DATABASE_URL, sql))[0]!.n);

  beforeAll(async () => {
    late = await SlowDomain.start(1_500);
    healthy = await SilentDomain.start();
    stack = await startStack({
      LNADDRESS_HOST_MAP: `${LN_DOMAIN}=${healthy.url},${DEAD_LN_DOMAIN}=http://127.0.0.1:9,${LATE_DOMAIN}=${late.url}`,
      LNADDRESS_TIMEOUT_MS: String(TIMEOUT_MS),
      LNADDRESS_RESOLVE_INTERVAL_SECONDS: '1',
      // A route lives 12 s; a job lasts at most its 1 s budget and its last call's two timeouts, so it is
      // refreshed from 6 s before it expires.
      LNADDRESS_CACHE_SECONDS: '12',
      LNADDRESS_DOMAIN_CONCURRENCY: String(CONCURRENCY),
      LNADDRESS_BREAKER_FAILURES: String(BREAKER_FAILURES),
      LNADDRESS_BREAKER_SECONDS: '600',
    });
    healthy.recover(stack.sim.url);
    const keys = stack.api.get(ApiKeysService);
    appA = apiClient(stack.baseUrl, (await keys.create('app-a', [Scope.EventsWrite, Scope.PayoutsRead, Scope.PayoutsWrite])).key);
  });
  afterAll(async () => {
    await stack.close();
    await healthy.close();
    await late.close();
  });

  it("resolves, pays and keeps refreshing app A's address while app B's 5,300 addresses fail", async () => {
    const deadAddresses = Array.from({ length: DEAD }, (_, i) => `d${i}@${DEAD_LN_DOMAIN}`);
    const lateAddresses = Array.from({ length: SLOW }, (_, i) => `s${i}@${LATE_DOMAIN}`);
    await seedAddresses(stack.api.get(PrismaService, { strict: false }), 'app-b', [...deadAddresses, ...lateAddresses], 1_000n);
    await query(
      stack.config.DATABASE_URL,
      `INSERT INTO lnaddress_failure (address, code, message, detail, failed_at, fingerprint)
       SELECT address, 'lnaddress_unreachable', 'gone', 'gone', now() - interval '1 day', $1 FROM recipient WHERE address LIKE '%@${DEAD_LN_DOMAIN}'`,
      [resolutionFingerprint(stack.config)],
    );
    expect(
      (await appA.post('/v1/events', { events: [listening('a-1', 21, 'lnaddress', [{ name: 'Zoe', type: 'lnaddress', address: zoe, split: 1 }])] })).status,
    ).toBe(202);
    await stack.accumulated();

    // A's address is resolved, then (still owed) its route is refreshed twice, each time before the route it
    // replaces expires: it never lapses.
    const routes = [
      (await eventually(
        () => routeOf(zoe),
        (r) => r !== undefined,
        15_000,
      ))!,
    ];
    await eventually(
      async () => {
        const now = await routeOf(zoe);
        if (now && now.resolved_at.getTime() !== routes.at(-1)!.resolved_at.getTime()) routes.push(now);
        return routes.length;
      },
      (n) => n >= 3,
      30_000,
    );
    for (let i = 1; i < routes.length; i++) expect(routes[i]!.resolved_at.getTime()).toBeLessThan(routes[i - 1]!.expires_at.getTime());

    // A's run pays it.
    const run = await runBy(appA);
    expect(run).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    expect((await appA.get('/v1/recipients?q=zoe')).body.recipients).toMatchObject([{ address: zoe, owedMsat: '0', paidMsat: '21000', waiting: null }]);

    // The dead domain: its breaker opened after the failures in a row it takes (a lane's others already under
    // way), and its 5,000 addresses were never tried again.
    expect(
      await query(stack.config.DATABASE_URL, 'SELECT consecutive_failures FROM lnaddress_domain WHERE domain = $1 AND open_until > now()', [DEAD_LN_DOMAIN]),
    ).toEqual([{ consecutive_failures: expect.any(Number) }]);
    const deadTried = await count(
      `SELECT count(*) AS n FROM lnaddress_failure WHERE address LIKE '%@${DEAD_LN_DOMAIN}' AND failed_at > now() - interval '1 hour'`,
    );
    expect(deadTried).toBeGreaterThanOrEqual(BREAKER_FAILURES);
    expect(deadTried).toBeLessThanOrEqual(BREAKER_FAILURES + CONCURRENCY - 1);
    // The late domain: never more than its lane's calls at once, each address it refused backing off (one
    // attempt each so far: the never-tried come first), none resolved.
    expect(late.mostAtOnce).toBeLessThanOrEqual(CONCURRENCY);
    const lateFailed = await query<{ attempts: number; code: string }>(
      stack.config.DATABASE_URL,
      `SELECT attempts, code FROM lnaddress_failure WHERE address LIKE '%@${LATE_DOMAIN}'`,
    );
    expect(lateFailed.length).toBeGreaterThan(0);
    expect(lateFailed.length).toBeLessThan(SLOW);
    expect(lateFailed.every((f) => f.code === 'lnaddress_refused' && f.attempts === 1)).toBe(true);
    expect(await count(`SELECT count(*) AS n FROM lnaddress_route WHERE address NOT LIKE '%@${LN_DOMAIN}'`)).toBe(0);
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });
});

// Issue 22: a route resolved under one wallet rail and host map is never paid after a restart under others (the
// old servers'): the worker, restarted with a wallet and a Lightning-address host of their own (simulator B),
// drops it, resolves the address again against B and pays it there.
describe('Lightning-address routes after a switch of wallet rail and host map (e2e)', () => {
  let stack: Stack;
  let simB: Sim;
  const workers: INestApplication[] = [];
  const carol = `carol@${LN_DOMAIN}`;
  const owe = (id: string) => stack.postEvents([listening(id, 21, 'lnaddress', [{ name: 'Carol', type: 'lnaddress', address: carol, split: 1 }])]);
  const routeOf = (address: string) => storedRoute(stack, address);
  const startWorker = async (config: typeof stack.config) => {
    const worker = await createWorker(config);
    workers.push(worker);
    await listen(worker); // boots it: its processors start taking jobs
    return worker;
  };

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    simB = await startSimulator();
  });
  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await stack.close();
    await simB.close();
  });

  it('resolves the address again against the new servers instead of paying the cached route', async () => {
    const workerA = await startWorker(stack.config);
    await owe('c-1');
    await stack.accumulated();
    expect(await workerA.get(AddressResolution, { strict: false }).resolveDue()).toMatchObject({ ran: true, resolved: 1 });
    expect((await routeOf(carol))!.callback.startsWith(stack.sim.url)).toBe(true);
    expect(await stack.runPayout()).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    expect(await stack.sim.lnaddress.invoices()).toHaveLength(1);
    await workerA.close();
    workers.splice(workers.indexOf(workerA), 1);

    // The same service restarted on rail B: its own wallet (ALBY_API_URL) and the address's domain on B.
    const configB = {
      ...stack.config,
      ALBY_API_URL: simB.url,
      ALBY_ACCESS_TOKEN: simB.token,
      LNADDRESS_HOST_MAP: new Map([...stack.config.LNADDRESS_HOST_MAP!, [LN_DOMAIN, simB.url]]),
    };
    expect(resolutionFingerprint(configB)).not.toBe((await routeOf(carol))!.fingerprint);
    await startWorker(configB);
    await owe('c-2');
    await stack.accumulated();
    // The next run pays nothing from the cached route (A's callback) and asks for a resolution, which goes to B.
    expect(await stack.runPayout()).toMatchObject({ totals: { keysends: 0 } });
    const resolved = await eventually(
      () => routeOf(carol),
      (route) => route?.callback.startsWith(simB.url) === true,
      15_000,
    );
    expect(resolved!.fingerprint).toBe(resolutionFingerprint(configB));
    expect((await simB.lnaddress.requests()).map((r) => r.path)).toContain('/.well-known/lnurlp/carol');
    expect(await stack.runPayout()).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
    expect(await simB.lnaddress.invoices()).toHaveLength(1);
    expect(await simB.payments()).toHaveLength(1);
    // A's servers saw nothing after the switch: one invoice, one payment, both from before.
    expect(await stack.sim.lnaddress.invoices()).toHaveLength(1);
    expect(await stack.sim.payments()).toHaveLength(1);
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });
});
