import { ApiKeysService, Scope } from '@splitstream/auth';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { apiClient, eventually } from '../support/http.js';
import { SilentDomain } from '../support/silent-domain.js';
import { type Stack, startStack } from '../support/stack.js';

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

// Issue 20, point 3: app B's 40 Lightning addresses are on a domain that accepts connections and never answers.
// Resolution is a worker job of its own: app A's node recipient is paid as soon as a run starts, B's addresses
// show why they wait, the domain's breaker opens after LNADDRESS_BREAKER_FAILURES calls and no call reaches it
// while it is open, and once it answers again (after LNADDRESS_BREAKER_SECONDS) B's addresses are resolved and paid.
describe('Lightning-address resolution off the payout path (e2e, two apps)', () => {
  let silent: SilentDomain;
  let stack: Stack;
  let appA: ReturnType<typeof apiClient>;
  let appB: ReturnType<typeof apiClient>;
  const metric = async (labels: string) => {
    const text = await (await fetch(stack.workerMetricsUrl!)).text();
    return Number(/^\S+ (\S+)$/.exec(text.split('\n').find((l) => l.startsWith(`splitstream_lnaddress_total{${labels}} `)) ?? '')?.[1] ?? 0);
  };
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
      LNADDRESS_BREAKER_SECONDS: '3',
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
    const started = await appA.post('/v1/payouts/run', {});
    expect(started.status).toBe(202);
    const run = (
      await eventually(
        () => appA.get(`/v1/payouts/${started.body.id}`),
        (r) => r.status === 200 && r.body.finishedAt !== null,
        20_000,
      )
    ).body;
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

    // Resolution passes go on while the breaker is open (every address skipped), and none reaches the domain.
    const skippedBefore = await metric('step="resolve",outcome="domain_open"');
    await eventually(
      () => metric('step="resolve",outcome="domain_open"'),
      (n) => n >= skippedBefore + ADDRESSES,
      10_000,
    );
    expect(silent.connections).toBe(callsWhenOpened);
    expect(await stack.runPayout()).toMatchObject({ totals: { keysends: 0 } });

    // The domain answers again (as the simulator's address host); once the breaker's time has passed, the next
    // resolution's probe closes it and every address is resolved, then paid by the next run.
    silent.recover(stack.sim.url);
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
