import { Prisma, PrismaService } from '@splitstream/persistence';
import { pubkey } from '../../money/src/testing/value-builders.js';
import { asSqlClient, truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { accrue, type Accrual, balanceKey, park, release, reserve, settle, transferRemainder, unpark } from './books.js';
import { LedgerQueries, summaryCountsSql, tallySql } from './ledger-queries.service.js';
import { accrualFor, pendingPayment, planOf } from './testing/ledger-fixtures.js';

// The running totals of the summary (ledger_tally, kept by triggers): exact after every movement of the books, read
// through indexes, never a wait between two writers of one app, and a tally that drifts is a broken ledger check.
describe('the running totals (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const ledger = new LedgerQueries(prisma);
  let recipientId: bigint;

  const accrual = (overrides: Partial<Accrual> = {}): Accrual => accrualFor(recipientId, overrides);
  const accrued = async (...rows: Accrual[]) => {
    const sorted = [...rows].sort((a, b) => (balanceKey(a) < balanceKey(b) ? -1 : 1));
    return prisma.$transaction((t) => accrue(asSqlClient(t), sorted));
  };
  const paymentFor = (balanceId: bigint, sats: number, reference: string) => pendingPayment(prisma, { recipientId, balanceId, sats, reference });
  // What the summary says of each app, and what the rows themselves sum to.
  const tallied = async (app: string) => {
    const s = await ledger.summary(app);
    return {
      accrued: s.accruedMsat,
      owed: s.owedMsat,
      inFlight: s.inFlightMsat,
      parked: s.parkedMsat,
      paid: s.paidMsat,
      fees: s.feesSats,
      events: s.events.accepted,
    };
  };
  const counted = async (app: string) => {
    const [row] = await prisma.$queryRaw<{ accrued: bigint; owed: bigint; in_flight: bigint; parked: bigint; paid: bigint; fees: bigint; events: bigint }[]>`
      SELECT COALESCE(SUM(accrued_msat), 0)::bigint AS accrued, COALESCE(SUM(owed_msat), 0)::bigint AS owed, COALESCE(SUM(in_flight_msat), 0)::bigint AS in_flight,
             COALESCE(SUM(parked_msat), 0)::bigint AS parked, COALESCE(SUM(paid_msat), 0)::bigint AS paid,
             (SELECT COALESCE(SUM(p.fee_sats), 0) FROM payment p JOIN balance b ON b.id = p.balance_id WHERE b.app_id = ${app} AND p.status = 'succeeded')::bigint AS fees,
             (SELECT COUNT(*) FROM listening_event WHERE app_id = ${app}) AS events
      FROM balance WHERE app_id = ${app}`;
    return {
      accrued: String(row!.accrued),
      owed: String(row!.owed),
      inFlight: String(row!.in_flight),
      parked: String(row!.parked),
      paid: String(row!.paid),
      fees: Number(row!.fees),
      events: Number(row!.events),
    };
  };

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    recipientId = (
      await prisma.recipient.create({
        data: { address: pubkey(7), apps: { create: [{ appId: 'app' }, { appId: 'other-app' }] } },
      })
    ).id;
  });
  afterAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$disconnect();
  });

  it('equal the sums of the rows after every movement of the books, events and payments, per app', async () => {
    const expectExact = async () => {
      for (const app of ['app', 'other-app']) expect(await tallied(app)).toEqual(await counted(app));
    };
    await prisma.$executeRaw`
      INSERT INTO listening_event (app_id, event_id, payload, amount_msat) SELECT 'app', 'e-' || i, '{}', 1000 FROM generate_series(1, 5) i`;
    await prisma.listeningEvent.create({ data: { appId: 'other-app', eventId: 'e-1', payload: {}, amountMsat: 7n } });
    const ids = await accrued(accrual(), accrual({ itemGuid: 'other' }), accrual({ appId: 'other-app', amountMsat: 3_000n }));
    await accrued(accrual({ amountMsat: 2_500n })); // an upsert: the update half of INSERT ... ON CONFLICT
    await expectExact();
    const [first, second] = [ids.get(balanceKey(accrual()))!, ids.get(balanceKey(accrual({ itemGuid: 'other' })))!];
    const [a, b] = [await paymentFor(first, 9, 'tally-a'), await paymentFor(second, 4, 'tally-b')];
    await prisma.$transaction((t) =>
      reserve(t, [
        { paymentId: a, balanceId: first, msat: 9_000n },
        { paymentId: b, balanceId: second, msat: 4_000n },
      ]),
    );
    await expectExact();
    await prisma.$transaction(async (t) => {
      await settle(t, [{ balanceId: first, msat: 9_000n }]);
      await t.payment.update({ where: { id: a }, data: { status: 'succeeded', feeSats: 2n } });
    });
    await prisma.payment.update({ where: { id: b }, data: { status: 'failed' } });
    await prisma.$transaction((t) => release(t, [{ paymentId: b, balanceId: second, msat: 4_000n }]));
    await expectExact();
    await prisma.$transaction((t) => transferRemainder(t, second, first, 500n));
    await prisma.$transaction((t) => park(t, { recipientId, appId: 'app' }, { code: '10', message: 'no route' }));
    await expectExact();
    await prisma.$transaction((t) => unpark(t, { recipientId, appId: 'app' }));
    await expectExact();
    // The service never deletes these rows, but an operator's repair may: the totals follow.
    await prisma.$executeRaw`DELETE FROM listening_event WHERE app_id = 'app' AND event_id = 'e-5'`;
    await expectExact();
    expect(await tallied('app')).toMatchObject({ events: 4, fees: 2, paid: '9000' });
    const report = await ledger.checkInvariant();
    expect(report.problems.filter((p) => p.includes('ledger_tally'))).toEqual([]);
  });

  it('are a broken ledger check when they drift from the rows, naming the app and by how much', async () => {
    await prisma.$executeRaw`UPDATE ledger_tally SET owed_msat = owed_msat + 5, events = events - 1 WHERE app_id = 'app' AND slot = (SELECT MIN(slot) FROM ledger_tally WHERE app_id = 'app')`;
    const report = await ledger.checkInvariant();
    expect(report.ok).toBe(false);
    expect(report.problems).toContain('app app: the running totals (ledger_tally) are off by -1 events, 5 owed_msat');
    await prisma.$executeRaw`SELECT ledger_tally_rebuild()`;
    expect((await ledger.checkInvariant()).problems.filter((p) => p.includes('ledger_tally'))).toEqual([]);
  });

  it('never make two writers of one app wait for each other (each database backend adds to its own row)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let accruing!: () => void;
    const accruedFirst = new Promise<void>((resolve) => (accruing = resolve));
    // The first writer accrues and holds its transaction open; the second, on another connection, accrues for the
    // same app meanwhile, and would fail at its lock timeout if it had to wait for the first one's tally row.
    const first = prisma.$transaction(async (t) => {
      await accrue(asSqlClient(t), [accrual({ itemGuid: 'held' })]);
      accruing();
      await held;
    });
    await accruedFirst;
    await prisma.$transaction(async (t) => {
      await t.$executeRaw`SET LOCAL lock_timeout = '5s'`;
      await accrue(asSqlClient(t), [accrual({ itemGuid: 'meanwhile' })]);
    });
    release();
    await first;
    expect(await tallied('app')).toEqual(await counted('app'));
  });

  it('are read through their primary key, and the summary counts through the partial indexes of events and payments', async () => {
    await prisma.$executeRaw`
      INSERT INTO listening_event (app_id, event_id, payload, amount_msat, applied_at, apply_error)
      SELECT CASE WHEN i % 2 = 0 THEN 'app' ELSE 'other-app' END, 'plan-' || i, '{}', 1000,
             CASE WHEN i % 100 <> 0 THEN now() END, CASE WHEN i % 1000 = 0 THEN 'refused' END
      FROM generate_series(1, 50000) i`;
    // Many succeeded payments, a few unknown ones (what payment_status_id_idx finds), each on a balance of its own.
    await prisma.$executeRaw`
      INSERT INTO balance (recipient_id, app_id, feed_guid, item_guid) SELECT ${recipientId}, 'app', 'plan', 'item-' || i FROM generate_series(1, 20000) i`;
    const payout = await prisma.payout.create({ data: { trigger: 'manual', status: 'completed' } });
    await prisma.$executeRaw`
      INSERT INTO payment (payout_id, recipient_id, balance_id, app_id, reference, amount_sats, attempt, status, custom_records, destination)
      SELECT ${payout.id}, ${recipientId}, id, app_id, 'plan-' || id, 1, 1, CASE WHEN id % 5000 = 0 THEN 'unknown' ELSE 'succeeded' END, '{}', 'x'
      FROM balance WHERE feed_guid = 'plan'`;
    await prisma.$executeRaw`ANALYZE`;
    const plan = (sql: Prisma.Sql) => planOf(prisma, sql);
    for (const tenant of ['app', null]) {
      const counts = await plan(summaryCountsSql(tenant));
      expect(counts.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      // Events: only indexes that hold (or lead with) the unapplied rows, never one of every event.
      const indexes = counts.flatMap((n) => n['Index Name'] ?? []);
      const eventIndexes = indexes.filter((i) => i.startsWith('listening_event'));
      expect(eventIndexes).toHaveLength(2);
      for (const index of eventIndexes)
        expect(['listening_event_awaiting_idx', 'listening_event_set_aside_idx', 'listening_event_applied_at_id_idx']).toContain(index);
      expect(indexes.filter((i) => i.startsWith('payment'))).toEqual(['payment_status_id_idx', 'payment_status_id_idx']);
    }
    // The tally holds a few rows per app: the planner may read it whole; what matters is that an app's are reached by key.
    await prisma.$executeRaw`SET enable_seqscan = off`;
    const tally = await plan(tallySql('app'));
    await prisma.$executeRaw`RESET enable_seqscan`;
    expect(tally.flatMap((n) => n['Index Name'] ?? [])).toEqual(['ledger_tally_pkey']);
  });
});
