import { PaymentStatus, PayoutStatus } from '@splitstream/ledger';
import { PrismaService } from '@splitstream/persistence';
import { pubkey } from '../../../money/src/testing/value-builders.js';
import { truncateAll } from '../../../../test/support/database.js';
import { testConfig } from '../../../../test/support/test-config.js';
import { PayoutStore } from './payout-store.js';

// The payout run's queries and its run-status moves against the real PostgreSQL.
describe('PayoutStore (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const store = new PayoutStore(prisma);
  let seq = 0;

  const status = async (id: bigint) => (await prisma.payout.findUniqueOrThrow({ where: { id } })).status;
  // Superseded: these tests move runs through the store, several active at once; that at most one is active is
  // PayoutRequests' concern (the payout_one_active index leaves superseded runs out).
  const newRun = (data: { status?: PayoutStatus; heartbeatAt?: Date | null; startedAt?: Date | null } = {}) =>
    prisma.payout.create({ data: { trigger: 'manual', superseded: true, ...data } }).then((p) => p.id);

  const newBalance = async (opts: { address?: string; appId?: string } = {}) => {
    seq += 1;
    const appId = opts.appId ?? 'app';
    const recipient = await prisma.recipient.create({
      data: { address: opts.address ?? pubkey(1), customValue: `r${seq}`, apps: { create: { appId, name: 'Host' } } },
    });
    const balance = await prisma.balance.create({ data: { recipientId: recipient.id, appId, feedGuid: 'feed', itemGuid: `item-${seq}` } });
    return { recipientId: recipient.id, balanceId: balance.id };
  };
  // A payment row inserted directly (these are reads: its balance's amounts play no part).
  const newPayment = async (
    payoutId: bigint,
    status: PaymentStatus,
    opts: { method?: 'keysend' | 'invoice'; invoice?: string; address?: string; appId?: string; balance?: { recipientId: bigint; balanceId: bigint } } = {},
  ) => {
    const { recipientId, balanceId } = opts.balance ?? (await newBalance({ address: opts.address, appId: opts.appId }));
    seq += 1;
    const { appId } = await prisma.balance.findUniqueOrThrow({ where: { id: balanceId }, select: { appId: true } });
    const payment = await prisma.payment.create({
      data: {
        payoutId,
        recipientId,
        balanceId,
        appId,
        reference: `ref-${seq}`,
        amountSats: 7,
        attempt: 1,
        status,
        customRecords: { '7629169': `{"n":${seq}}` },
        method: opts.method ?? 'keysend',
        destination: opts.address ?? pubkey(1),
        invoice: opts.invoice ?? null,
        comment: opts.method === 'invoice' ? `comment ${seq}` : null,
      },
    });
    return payment.id;
  };

  beforeAll(() => prisma.$connect());
  beforeEach(() => truncateAll(config.DATABASE_URL));
  afterAll(() => prisma.$disconnect());

  describe('run status moves', () => {
    it('start: queued -> running once; a second start is refused', async () => {
      const id = await newRun();
      expect(await store.start(id)).toBe(true);
      const run = await prisma.payout.findUniqueOrThrow({ where: { id } });
      expect(run.status).toBe('running');
      expect(run.startedAt).not.toBeNull();
      expect(run.heartbeatAt).not.toBeNull();
      expect(await store.start(id)).toBe(false);
      expect(await status(id)).toBe('running');
    });

    it('start: a run that is not queued (skipped, finished, interrupted) never starts', async () => {
      for (const s of [PayoutStatus.Skipped, PayoutStatus.Completed, PayoutStatus.Interrupted, PayoutStatus.Failed]) {
        const id = await newRun({ status: s });
        expect(await store.start(id)).toBe(false);
        expect(await status(id)).toBe(s);
      }
    });

    it('skip: only from queued; a running run is never skipped', async () => {
      const queued = await newRun();
      expect(await store.skip(queued, 'another run holds the lock')).toBe(true);
      expect(await prisma.payout.findUniqueOrThrow({ where: { id: queued } })).toMatchObject({ status: 'skipped', note: 'another run holds the lock' });
      expect(await store.start(queued)).toBe(false);

      const running = await newRun();
      expect(await store.start(running)).toBe(true);
      expect(await store.skip(running, 'late skip')).toBe(false);
      expect(await prisma.payout.findUniqueOrThrow({ where: { id: running } })).toMatchObject({ status: 'running', note: null, finishedAt: null });

      const done = await newRun({ status: PayoutStatus.Completed });
      expect(await store.skip(done, 'late skip')).toBe(false);
      expect(await status(done)).toBe('completed');
    });

    it('finish: only from running; a queued run cannot be finished', async () => {
      const queued = await newRun();
      expect(await store.finish(queued, PayoutStatus.Completed, null)).toBe(false);
      expect(await status(queued)).toBe('queued');

      expect(await store.start(queued)).toBe(true);
      expect(await store.finish(queued, PayoutStatus.Partial, '1 unknown')).toBe(true);
      const run = await prisma.payout.findUniqueOrThrow({ where: { id: queued } });
      expect(run).toMatchObject({ status: 'partial', note: '1 unknown' });
      expect(run.finishedAt).not.toBeNull();
      // Finished once: a second finish does not overwrite it.
      expect(await store.finish(queued, PayoutStatus.Completed, null)).toBe(false);
      expect(await prisma.payout.findUniqueOrThrow({ where: { id: queued } })).toMatchObject({ status: 'partial', note: '1 unknown' });
    });

    it('interruptRunning interrupts every running run (and only those); an interrupted run cannot be finished afterwards', async () => {
      const a = await newRun();
      const b = await newRun();
      const queued = await newRun();
      const done = await newRun({ status: PayoutStatus.Completed });
      await store.start(a);
      await store.start(b);
      expect(await prisma.$transaction((tx) => store.interruptRunning(tx))).toBe(2);
      for (const id of [a, b]) {
        const run = await prisma.payout.findUniqueOrThrow({ where: { id } });
        expect(run.status).toBe('interrupted');
        expect(run.finishedAt).not.toBeNull();
        expect(run.note).toBeTruthy();
      }
      expect(await status(queued)).toBe('queued');
      expect(await status(done)).toBe('completed');

      // The worker that lost run a comes back and tries to finish it: refused, the interruption stays.
      expect(await store.finish(a, PayoutStatus.Completed, null)).toBe(false);
      expect(await store.start(a)).toBe(false);
      expect(await status(a)).toBe('interrupted');
      expect(await prisma.$transaction((tx) => store.interruptRunning(tx))).toBe(0);
    });

    it('staleRuns: running runs whose heartbeat (else start) is older than the timeout', async () => {
      const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);
      const stale = await newRun({ status: PayoutStatus.Running, startedAt: ago(600), heartbeatAt: ago(120) });
      const fresh = await newRun({ status: PayoutStatus.Running, startedAt: ago(600), heartbeatAt: ago(5) });
      const neverBeat = await newRun({ status: PayoutStatus.Running, startedAt: ago(300), heartbeatAt: null });
      await newRun({ status: PayoutStatus.Queued, heartbeatAt: ago(600) });
      await newRun({ status: PayoutStatus.Interrupted, startedAt: ago(600), heartbeatAt: ago(600) });

      expect((await store.staleRuns(60)).sort()).toEqual([stale, neverBeat].sort());
      expect(await store.staleRuns(200)).toEqual([neverBeat]);
      expect(await store.staleRuns(1_000)).toEqual([]);
      expect((await store.staleRuns(1)).sort()).toEqual([stale, fresh, neverBeat].sort());

      // A beat makes a run fresh again.
      await store.beat(stale);
      expect(await store.staleRuns(60)).toEqual([neverBeat]);
    });
  });

  describe('queries', () => {
    it('invoicesWanted: only pending invoice payments without an invoice among the given ids, with their route', async () => {
      const run = await newRun();
      const address = 'host@example.com';
      await prisma.addressRoute.create({
        data: {
          address,
          fingerprint: 'this-config',
          kind: 'lnurlp',
          callback: 'https://example.com/lnurlp/host/callback',
          commentAllowed: 140,
          metadataHash: 'ab'.repeat(32),
          expiresAt: new Date(Date.now() + 3_600_000),
        },
      });
      const wanted = await newPayment(run, 'pending', { method: 'invoice', address });
      const wanted2 = await newPayment(run, 'pending', { method: 'invoice', address: 'nobody@example.org' });
      const hasInvoice = await newPayment(run, 'pending', { method: 'invoice', address, invoice: 'lnbc70n1x' });
      const keysend = await newPayment(run, 'pending');
      const sending = await newPayment(run, 'sending', { method: 'invoice', address });
      const cancelled = await newPayment(run, 'cancelled', { method: 'invoice', address });
      const notAsked = await newPayment(run, 'pending', { method: 'invoice', address });

      const rows = await store.invoicesWanted([cancelled, sending, keysend, hasInvoice, wanted2, wanted], 'this-config');
      expect(rows.map((r) => r.id)).toEqual([wanted, wanted2]);
      expect(rows[0]).toMatchObject({
        id: wanted,
        amount_sats: 7n,
        comment: expect.stringMatching(/^comment \d+$/),
        route: 'lnurlp',
        callback: 'https://example.com/lnurlp/host/callback',
        metadata_hash: 'ab'.repeat(32),
      });
      // No route stored for its address: still wanted, with no route.
      expect(rows[1]).toMatchObject({ id: wanted2, route: null, callback: null });
      expect(rows.map((r) => r.id)).not.toContain(notAsked);
      // A route resolved under another config is none here.
      expect(await store.invoicesWanted([wanted], 'another-config')).toEqual([expect.objectContaining({ id: wanted, route: null, callback: null })]);
      expect(await store.invoicesWanted([], 'this-config')).toEqual([]);
    });

    it('unknownPayments: unknown payments after afterId, of one tenant and of these ids, oldest first, with the limit', async () => {
      const run = await newRun();
      const a1 = await newPayment(run, 'unknown', { appId: 'app-a' });
      const b1 = await newPayment(run, 'unknown', { appId: 'app-b' });
      await newPayment(run, 'sending', { appId: 'app-a' });
      await newPayment(run, 'failed', { appId: 'app-a' });
      const a2 = await newPayment(run, 'unknown', { appId: 'app-a' });
      const b2 = await newPayment(run, 'unknown', { appId: 'app-b' });
      const a3 = await newPayment(run, 'unknown', { appId: 'app-a' });

      const ids = async (...args: Parameters<PayoutStore['unknownPayments']>) => (await store.unknownPayments(...args)).map((r) => r.id);
      expect(await ids({ tenant: null }, 0n, 100)).toEqual([a1, b1, a2, b2, a3]);
      expect(await ids({ tenant: 'app-a' }, 0n, 100)).toEqual([a1, a2, a3]);
      expect(await ids({ tenant: 'app-b' }, 0n, 100)).toEqual([b1, b2]);
      expect(await ids({ tenant: 'app-c' }, 0n, 100)).toEqual([]);
      expect(await ids({ tenant: 'app-a' }, a1, 100)).toEqual([a2, a3]);
      expect(await ids({ tenant: null }, 0n, 2)).toEqual([a1, b1]);
      expect(await ids({ tenant: null, paymentIds: [a3, b1] }, 0n, 100)).toEqual([b1, a3]);
      expect(await ids({ tenant: 'app-a', paymentIds: [a3, b1] }, 0n, 100)).toEqual([a3]);
      expect(await ids({ tenant: null, paymentIds: [] }, 0n, 100)).toEqual([]);

      const [row] = await store.unknownPayments({ tenant: 'app-b', paymentIds: [b2] }, 0n, 10);
      expect(row).toMatchObject({ id: b2, payout_id: run, app_id: 'app-b', amount_sats: 7n, method: 'keysend' });
    });

    it('inStatus and counts: the payments of a run by status', async () => {
      const run = await newRun();
      const other = await newRun();
      const sending = [await newPayment(run, 'sending'), await newPayment(run, 'sending')];
      await newPayment(other, 'sending');
      await newPayment(run, 'succeeded');
      await newPayment(run, 'unknown');
      await newPayment(run, 'cancelled');
      await newPayment(run, 'failed');
      await newPayment(run, 'failed');
      expect(await prisma.$transaction((tx) => store.inStatus(tx, 'sending', run))).toEqual(sending);
      expect(await prisma.$transaction((tx) => store.inStatus(tx, 'sending'))).toHaveLength(3);
      expect(await store.counts(run)).toEqual({ keysends: 7, succeeded: 1, failed: 2, unknown: 1, cancelled: 1 });
    });
  });
});
