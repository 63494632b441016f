import { randomBytes } from 'node:crypto';
import { LedgerQueries } from '@splitstream/ledger';
import { PrismaService } from '@splitstream/persistence';
import { pubkey } from '../../money/src/testing/value-builders.js';
import { truncateAll } from '../../../test/support/database.js';
import { seedListening } from '../../../test/support/ledger-seed.js';
import { testConfig } from '../../../test/support/test-config.js';
import { type PaymentDraft, PaymentMoves, type PaymentRow } from './payment-moves.js';

// The books with payment parts, against the real PostgreSQL: a balance paid by several payments of one run
// (MAX_PAYMENT_SATS, maxSendable) and one invoice paying several small balances of one address. Every msat stays on
// its episode's balance, listening is linked deterministically and never stranded, and the ledger check holds.
describe('payment parts: the books with several payments per balance and several balances per payment (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const ledger = new LedgerQueries(prisma);
  const hex = () => randomBytes(8).toString('hex');
  const tx = <T>(work: (moves: PaymentMoves) => Promise<T>) => prisma.$transaction((t) => work(new PaymentMoves(t)));
  const reason = { code: 'NO_ROUTE', message: 'no route' };
  const paid = (id: bigint) => ({ id, feeSats: 1, paymentHash: randomBytes(32).toString('hex'), preimage: randomBytes(32).toString('hex') });

  let recipientId: bigint;

  let address: string;
  // A balance of the test's recipient accrued from `events` listening events (each `msatEach`), with their
  // allocations, as the accumulator writes them (so the ledger check's events = accrued holds).
  const newBalance = async (events: number, msatEach: bigint): Promise<bigint> =>
    (await seedListening(prisma, { appId: 'app-b', address, feedGuid: 'feed', itemGuid: `item-${hex()}`, events, msatEach })).balanceId;
  const draft = (balanceId: bigint, sats: bigint, over: Partial<PaymentDraft> = {}): PaymentDraft => ({
    balanceId,
    recipientId,
    reference: `ref-${hex()}`,
    method: 'keysend',
    destination: pubkey(1),
    amountSats: sats,
    attempt: 1,
    customRecords: {},
    ...over,
  });
  const create = async (drafts: PaymentDraft[]): Promise<PaymentRow[]> => {
    const payout = await prisma.payout.create({ data: { trigger: 'manual', status: 'completed' } });
    return tx((m) => m.create(payout.id, drafts));
  };
  const amounts = async (id: bigint) => {
    const b = await prisma.balance.findUniqueOrThrow({ where: { id } });
    return { owed: b.owedMsat, inFlight: b.inFlightMsat, paid: b.paidMsat };
  };
  const links = async (balanceId: bigint) => [
    ...new Set((await prisma.allocation.findMany({ where: { balanceId } })).map((a) => (a.paymentId === null ? null : String(a.paymentId)))),
  ];
  const claim = (rows: PaymentRow[]) => tx((m) => m.claim(rows.map((r) => r.id)));
  const checkLedger = async () => expect(await ledger.checkInvariant()).toMatchObject({ ok: true, problems: [] });

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$connect();
  });
  let seq = 0;
  beforeEach(async () => {
    address = pubkey(++seq);
    recipientId = (await prisma.recipient.create({ data: { address } })).id;
  });
  afterAll(() => prisma.$disconnect());

  it("reserve: a balance paid by several payments of a run links all its listening to the run's first payment of it", async () => {
    const balance = await newBalance(3, 10_000n);
    const [first, second] = await create([draft(balance, 20n), draft(balance, 10n)]);
    expect(await amounts(balance)).toEqual({ owed: 0n, inFlight: 30_000n, paid: 0n });
    expect(await links(balance)).toEqual([String(first!.id)]);
    expect((await prisma.paymentPart.findMany({ where: { balanceId: balance }, orderBy: { paymentId: 'asc' } })).map((p) => [p.paymentId, p.msat])).toEqual([
      [first!.id, 20_000n],
      [second!.id, 10_000n],
    ]);
    await checkLedger();
  });

  it('release: the first part fails, the second is paid: the listening moves to the paid part, the failed amount is owed again', async () => {
    const balance = await newBalance(3, 10_000n);
    const [first, second] = await create([draft(balance, 20n), draft(balance, 10n)]);
    await claim([first!, second!]);
    await tx((m) => m.fail([{ id: first!.id, reason }]));
    expect(await links(balance)).toEqual([String(second!.id)]);
    await tx((m) => m.succeed([paid(second!.id)]));
    expect(await amounts(balance)).toEqual({ owed: 20_000n, inFlight: 0n, paid: 10_000n });
    expect(await links(balance)).toEqual([String(second!.id)]);
    await checkLedger();
  });

  it('release: the second part fails after the first was paid: the listening stays with the paid part', async () => {
    const balance = await newBalance(2, 10_000n);
    const [first, second] = await create([draft(balance, 10n), draft(balance, 10n)]);
    await claim([first!, second!]);
    await tx((m) => m.succeed([paid(first!.id)]));
    await tx((m) => m.fail([{ id: second!.id, reason }]));
    expect(await amounts(balance)).toEqual({ owed: 10_000n, inFlight: 0n, paid: 10_000n });
    expect(await links(balance)).toEqual([String(first!.id)]);
    await checkLedger();
  });

  it('release: every part of the run fails or is cancelled: the listening is free for the next payment, which takes it', async () => {
    const balance = await newBalance(2, 10_000n);
    const [first, second] = await create([draft(balance, 10n), draft(balance, 10n)]);
    await claim([first!]);
    await tx((m) => m.fail([{ id: first!.id, reason }]));
    expect(await links(balance)).toEqual([String(second!.id)]);
    await tx((m) => m.cancel([{ id: second!.id, reason }]));
    expect(await links(balance)).toEqual([null]);
    expect(await amounts(balance)).toEqual({ owed: 20_000n, inFlight: 0n, paid: 0n });
    const [next] = await create([draft(balance, 20n)]);
    expect(await links(balance)).toEqual([String(next!.id)]);
    await checkLedger();
  });

  it('one invoice for several small balances: each balance moves exactly its part, and all their listening links to it', async () => {
    const balances = [await newBalance(1, 20_000n), await newBalance(2, 10_000n), await newBalance(1, 20_000n)];
    const parts = balances.map((balanceId) => ({ balanceId, msat: 20_000n }));
    const [invoice] = await create([draft(balances[0]!, 60n, { method: 'invoice', destination: 'host@pods.test', parts })]);
    expect(invoice).toMatchObject({ balance_id: balances[0], amount_sats: 60n });
    for (const b of balances) {
      expect(await amounts(b)).toEqual({ owed: 0n, inFlight: 20_000n, paid: 0n });
      expect(await links(b)).toEqual([String(invoice!.id)]);
    }
    await checkLedger();
    await tx((m) => m.attachInvoice(invoice!.id, { invoice: 'lnbc600n1x', paymentHash: 'ab'.repeat(32), expiresAt: new Date(Date.now() + 60_000) }));
    await claim([invoice!]);
    await tx((m) => m.succeed([paid(invoice!.id)]));
    for (const b of balances) expect(await amounts(b)).toEqual({ owed: 0n, inFlight: 0n, paid: 20_000n });
    await checkLedger();
  });

  it('one invoice for several small balances, cancelled: every part is owed again and its listening free', async () => {
    const balances = [await newBalance(1, 30_000n), await newBalance(1, 25_000n)];
    const [invoice] = await create([
      draft(balances[0]!, 55n, {
        method: 'invoice',
        destination: 'host@pods.test',
        parts: [
          { balanceId: balances[0]!, msat: 30_000n },
          { balanceId: balances[1]!, msat: 25_000n },
        ],
      }),
    ]);
    await tx((m) => m.cancel([{ id: invoice!.id, reason }]));
    expect(await amounts(balances[0]!)).toEqual({ owed: 30_000n, inFlight: 0n, paid: 0n });
    expect(await amounts(balances[1]!)).toEqual({ owed: 25_000n, inFlight: 0n, paid: 0n });
    for (const b of balances) expect(await links(b)).toEqual([null]);
    await checkLedger();
  });

  it('create refuses parts that do not add up to the payment, writing nothing', async () => {
    const balance = await newBalance(1, 30_000n);
    const before = await prisma.payment.count();
    await expect(create([draft(balance, 30n, { parts: [{ balanceId: balance, msat: 29_999n }] })])).rejects.toThrow(/parts add up to 29999 msat, not 30 sats/);
    expect(await prisma.payment.count()).toBe(before);
    expect(await amounts(balance)).toEqual({ owed: 30_000n, inFlight: 0n, paid: 0n });
  });

  it('the ledger check names a payment whose parts do not add up to it', async () => {
    const balance = await newBalance(1, 10_000n);
    const [payment] = await create([draft(balance, 10n)]);
    await prisma.paymentPart.update({ where: { paymentId_balanceId: { paymentId: payment!.id, balanceId: balance } }, data: { msat: 9_000n } });
    expect((await ledger.checkInvariant()).problems).toContain(`payment ${payment!.id}: its parts add up to 9000 msat, the payment is 10000 msat`);
    await prisma.paymentPart.update({ where: { paymentId_balanceId: { paymentId: payment!.id, balanceId: balance } }, data: { msat: 10_000n } });
    await checkLedger();
  });
});
