import { randomBytes } from 'node:crypto';
import { PaymentStatus } from '@splitstream/ledger';
import { PrismaService } from '@splitstream/persistence';
import { pubkey } from '../../money/src/testing/value-builders.js';
import { truncateAll } from '../../../test/support/database.js';
import { seedBalance } from '../../../test/support/ledger-seed.js';
import { testConfig } from '../../../test/support/test-config.js';
import { type PaymentDraft, PaymentMoves, type PaymentRow, type Verdict } from './payment-moves.js';
import { IllegalTransitionError } from './transitions.js';

// Every payment status move against the real PostgreSQL: the moves of PaymentMoves, each with its movement of money.
describe('PaymentMoves: every payment status move (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);

  const ACCRUED_MSAT = 15_000n;
  const AMOUNT_SATS = 10;
  const AMOUNT_MSAT = 10_000n;

  const hex32 = () => randomBytes(32).toString('hex');
  const verdict = (basis: Verdict['basis'] = 'wallet'): Verdict => ({
    basis,
    decidedBy: 'reconciliation',
    reason: 'the wallet says so',
    evidence: { state: 'settled' },
  });
  const reason = { code: 'NO_ROUTE', message: 'no route' };

  const tx = <T>(work: (moves: PaymentMoves) => Promise<T>) => prisma.$transaction((t) => work(new PaymentMoves(t)));

  const amounts = async (balanceId: bigint) => {
    const b = await prisma.balance.findUniqueOrThrow({ where: { id: balanceId } });
    return { accrued: b.accruedMsat, owed: b.owedMsat, inFlight: b.inFlightMsat, parked: b.parkedMsat, paid: b.paidMsat };
  };
  const paymentRow = (id: bigint) => prisma.payment.findUniqueOrThrow({ where: { id } });

  // A recipient of its own with one balance owed ACCRUED_MSAT.
  const newBalance = () => seedBalance(prisma, pubkey(1), ACCRUED_MSAT);

  // A pending payment of AMOUNT_SATS, created through PaymentMoves.create (its money reserved).
  const newPending = async (draft: Partial<PaymentDraft> = {}): Promise<PaymentRow> => {
    const { recipientId, balanceId } = await newBalance();
    const payout = await prisma.payout.create({ data: { trigger: 'manual', status: 'completed' } });
    const [row] = await tx((m) =>
      m.create(payout.id, [
        {
          balanceId,
          recipientId,
          reference: `ref-${hex32().slice(0, 16)}`,
          method: 'keysend',
          destination: pubkey(1),
          amountSats: BigInt(AMOUNT_SATS),
          attempt: 1,
          customRecords: { '7629169': '{}' },
          ...draft,
        },
      ]),
    );
    return row!;
  };

  // A payment in `status`, reached through the moves themselves from a fresh pending payment.
  const seed = async (status: PaymentStatus): Promise<PaymentRow> => {
    const row = await newPending();
    const id = row.id;
    const reach: Record<PaymentStatus, PaymentStatus[]> = {
      pending: [],
      sending: ['sending'],
      succeeded: ['sending', 'succeeded'],
      failed: ['sending', 'failed'],
      unknown: ['sending', 'unknown'],
      cancelled: ['cancelled'],
    };
    for (const step of reach[status]) {
      const moved = await tx(async (m) => {
        switch (step) {
          case 'sending':
            return m.claim([id]);
          case 'succeeded':
            return m.succeed([{ id, feeSats: 1, paymentHash: hex32(), preimage: hex32() }]);
          case 'failed':
            return m.fail([{ id, reason }]);
          case 'unknown':
            return m.markUnknown([{ id, reason: { code: null, message: 'timed out' } }]);
          case 'cancelled':
            return m.cancel([{ id, reason }]);
          default:
            throw new Error(`no seeding step to ${step}`);
        }
      });
      expect(moved.map((r) => r.id)).toEqual([id]);
    }
    expect((await paymentRow(id)).status).toBe(status);
    return row;
  };

  // Where the payment's money is, by its status (accrued ACCRUED_MSAT, the payment AMOUNT_MSAT).
  const inFlight = { accrued: ACCRUED_MSAT, owed: ACCRUED_MSAT - AMOUNT_MSAT, inFlight: AMOUNT_MSAT, parked: 0n, paid: 0n };
  const owed = { accrued: ACCRUED_MSAT, owed: ACCRUED_MSAT, inFlight: 0n, parked: 0n, paid: 0n };
  const paid = { accrued: ACCRUED_MSAT, owed: ACCRUED_MSAT - AMOUNT_MSAT, inFlight: 0n, parked: 0n, paid: AMOUNT_MSAT };
  const MONEY: Record<PaymentStatus, typeof owed> = {
    pending: inFlight,
    sending: inFlight,
    unknown: inFlight,
    succeeded: paid,
    failed: owed,
    cancelled: owed,
  };

  // Each move, the status it moves to, and the sources it is declared for (written out here, not read from the code).
  type MoveName = 'claim' | 'succeed' | 'fail' | 'cancel' | 'markUnknown' | 'settleUnknown(paid)' | 'settleUnknown(not paid)';
  const MOVES: { name: MoveName; to: PaymentStatus; from: PaymentStatus[]; apply: (m: PaymentMoves, id: bigint) => Promise<PaymentRow[]> }[] = [
    { name: 'claim', to: 'sending', from: ['pending'], apply: (m, id) => m.claim([id]) },
    { name: 'succeed', to: 'succeeded', from: ['sending'], apply: (m, id) => m.succeed([{ id, feeSats: 2, paymentHash: hex32(), preimage: hex32() }]) },
    { name: 'fail', to: 'failed', from: ['sending'], apply: (m, id) => m.fail([{ id, reason }]) },
    { name: 'cancel', to: 'cancelled', from: ['pending', 'sending'], apply: (m, id) => m.cancel([{ id, reason }]) },
    { name: 'markUnknown', to: 'unknown', from: ['sending'], apply: (m, id) => m.markUnknown([{ id, reason }]) },
    {
      name: 'settleUnknown(paid)',
      to: 'succeeded',
      from: ['unknown'],
      apply: async (m, id) => {
        const row = await m.settleUnknown({ id, paid: { feeSats: null, paymentHash: hex32(), preimage: hex32() } }, verdict());
        return row ? [row] : [];
      },
    },
    {
      name: 'settleUnknown(not paid)',
      to: 'failed',
      from: ['unknown'],
      apply: async (m, id) => {
        const row = await m.settleUnknown({ id, reason }, verdict());
        return row ? [row] : [];
      },
    },
  ];

  // The transition table, written out: the union of what the moves are declared for must be exactly this.
  const TABLE = [
    'pending -> sending',
    'pending -> cancelled',
    'sending -> succeeded',
    'sending -> failed',
    'sending -> unknown',
    'sending -> cancelled',
    'unknown -> succeeded',
    'unknown -> failed',
  ];
  const STATUSES = Object.values(PaymentStatus);

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$connect();
  });
  afterAll(() => prisma.$disconnect());

  it('the moves, together, are declared for exactly the transition table', () => {
    const declared = MOVES.flatMap((move) => move.from.map((from) => `${from} -> ${move.to}`));
    expect([...new Set(declared)].sort()).toEqual([...TABLE].sort());
    // Nothing moves a payment back to pending: only create writes it.
    expect(STATUSES.filter((from) => TABLE.includes(`${from} -> pending`))).toEqual([]);
  });

  // For each (from, to) and each move that targets `to`: it moves the payment iff it is declared for `from`
  // (and so iff the table allows from -> to); otherwise the row and its balance stay as they were.
  const cases = STATUSES.flatMap((from) => MOVES.map((move) => ({ from, to: move.to, move: move.name, allowed: move.from.includes(from) })));

  it.each(cases)('$from -> $to by $move: moves = $allowed', async ({ from, to, move: name, allowed }) => {
    expect(TABLE.includes(`${from} -> ${to}`) || !allowed).toBe(true);
    const move = MOVES.find((m) => m.name === name)!;
    const seeded = await seed(from);
    const before = await paymentRow(seeded.id);
    expect(await amounts(seeded.balance_id)).toEqual(MONEY[from]);
    const verdictsBefore = await prisma.paymentVerdict.count({ where: { paymentId: seeded.id } });

    const returned = await tx((m) => move.apply(m, seeded.id));

    const after = await paymentRow(seeded.id);
    if (allowed) {
      expect(returned.map((r) => r.id)).toEqual([seeded.id]);
      expect(after.status).toBe(to);
      expect(await amounts(seeded.balance_id)).toEqual(MONEY[to]);
      if (from === 'unknown') expect(await prisma.paymentVerdict.count({ where: { paymentId: seeded.id } })).toBe(verdictsBefore + 1);
    } else {
      expect(returned).toEqual([]);
      expect(after).toEqual(before);
      expect(await amounts(seeded.balance_id)).toEqual(MONEY[from]);
      expect(await prisma.paymentVerdict.count({ where: { paymentId: seeded.id } })).toBe(verdictsBefore);
    }
  });

  it('unknown -> failed or succeeded without a verdict throws IllegalTransitionError and changes nothing', async () => {
    const seeded = await seed('unknown');
    const before = await paymentRow(seeded.id);
    const noVerdict = undefined as unknown as Verdict;
    await expect(tx((m) => m.settleUnknown({ id: seeded.id, reason }, noVerdict))).rejects.toThrow(IllegalTransitionError);
    await expect(tx((m) => m.settleUnknown({ id: seeded.id, paid: { feeSats: 0, paymentHash: hex32(), preimage: hex32() } }, noVerdict))).rejects.toThrow(
      IllegalTransitionError,
    );
    expect(await paymentRow(seeded.id)).toEqual(before);
    expect(await amounts(seeded.balance_id)).toEqual(MONEY.unknown);
    expect(await prisma.paymentVerdict.count({ where: { paymentId: seeded.id } })).toBe(0);
  });

  it('settleUnknown records the verdict (outcome, basis, decidedBy, reason, evidence) and who resolved the payment', async () => {
    const notPaid = await seed('unknown');
    const paidOne = await seed('unknown');
    const hash = hex32();
    const preimage = hex32();
    await tx(async (m) => {
      await m.settleUnknown(
        { id: notPaid.id, reason: { code: 'GONE', message: 'the wallet has no such payment' } },
        {
          basis: 'wallet',
          decidedBy: 'reconciliation',
          reason: 'absent from the wallet',
          evidence: { lookups: 3, state: 'absent' },
        },
      );
      await m.settleUnknown(
        { id: paidOne.id, paid: { feeSats: null, paymentHash: hash, preimage } },
        {
          basis: 'preimage',
          decidedBy: 'operator@example.com',
          reason: 'the recipient showed the preimage',
          evidence: { preimage },
        },
      );
    });

    const [v1] = await prisma.paymentVerdict.findMany({ where: { paymentId: notPaid.id } });
    expect(v1).toMatchObject({
      outcome: 'failed',
      basis: 'wallet',
      decidedBy: 'reconciliation',
      reason: 'absent from the wallet',
      evidence: { lookups: 3, state: 'absent' },
    });
    expect(await paymentRow(notPaid.id)).toMatchObject({
      status: 'failed',
      errorCode: 'GONE',
      errorMessage: 'the wallet has no such payment',
      resolvedBy: 'reconciliation',
    });
    expect((await paymentRow(notPaid.id)).resolvedAt).not.toBeNull();

    const [v2] = await prisma.paymentVerdict.findMany({ where: { paymentId: paidOne.id } });
    expect(v2).toMatchObject({
      outcome: 'succeeded',
      basis: 'preimage',
      decidedBy: 'operator@example.com',
      reason: 'the recipient showed the preimage',
      evidence: { preimage },
    });
    expect(await paymentRow(paidOne.id)).toMatchObject({ status: 'succeeded', paymentHash: hash, preimage, resolvedBy: 'operator@example.com' });
    expect(await amounts(notPaid.balance_id)).toEqual(MONEY.failed);
    expect(await amounts(paidOne.balance_id)).toEqual(MONEY.succeeded);
  });

  it('claim never moves an invoice payment without its invoice; once attached, claim moves it', async () => {
    const row = await newPending({ method: 'invoice', destination: 'host@example.com' });
    expect(await tx((m) => m.claim([row.id]))).toEqual([]);
    expect((await paymentRow(row.id)).status).toBe('pending');

    const hash = hex32();
    const expiresAt = new Date(Date.now() + 600_000);
    expect(await tx((m) => m.attachInvoice(row.id, { invoice: 'lnbc100n1test', paymentHash: hash, expiresAt }))).toBe(true);
    // An invoice is attached once.
    expect(await tx((m) => m.attachInvoice(row.id, { invoice: 'lnbc100n1other', paymentHash: hex32(), expiresAt }))).toBe(false);

    const claimed = await tx((m) => m.claim([row.id]));
    expect(claimed.map((r) => r.id)).toEqual([row.id]);
    expect(claimed[0]).toMatchObject({ invoice: 'lnbc100n1test', payment_hash: hash });
    const after = await paymentRow(row.id);
    expect(after).toMatchObject({ status: 'sending', invoice: 'lnbc100n1test', paymentHash: hash, invoiceExpiresAt: expiresAt });
    expect(after.sentAt).not.toBeNull();
    expect(await amounts(row.balance_id)).toEqual(MONEY.sending);
  });

  it('attachInvoice leaves keysend payments and payments no longer pending alone', async () => {
    const keysend = await newPending();
    const invoice = { invoice: 'lnbc100n1x', paymentHash: hex32(), expiresAt: new Date(Date.now() + 600_000) };
    expect(await tx((m) => m.attachInvoice(keysend.id, invoice))).toBe(false);
    const cancelled = await newPending({ method: 'invoice', destination: 'host@example.com' });
    await tx((m) => m.cancel([{ id: cancelled.id, reason }]));
    expect(await tx((m) => m.attachInvoice(cancelled.id, invoice))).toBe(false);
    expect((await paymentRow(cancelled.id)).invoice).toBeNull();
  });

  it('a keysend payment is claimed in a chunk with other payments; an invoice payment without invoice is left pending', async () => {
    const a = await newPending();
    const b = await newPending({ method: 'invoice', destination: 'host@example.com' });
    const c = await newPending();
    const claimed = await tx((m) => m.claim([c.id, b.id, a.id]));
    expect(claimed.map((r) => r.id)).toEqual([a.id, c.id]);
    expect((await paymentRow(b.id)).status).toBe('pending');
  });

  it('the same move in two transactions one after the other moves the payment once (money moves once)', async () => {
    const seeded = await seed('sending');
    const first = await tx((m) => m.succeed([{ id: seeded.id, feeSats: 1, paymentHash: hex32(), preimage: hex32() }]));
    const second = await tx((m) => m.succeed([{ id: seeded.id, feeSats: 1, paymentHash: hex32(), preimage: hex32() }]));
    expect(first.map((r) => r.id)).toEqual([seeded.id]);
    expect(second).toEqual([]);
    expect(await amounts(seeded.balance_id)).toEqual(MONEY.succeeded);

    const other = await seed('sending');
    expect(await tx((m) => m.fail([{ id: other.id, reason }]))).toHaveLength(1);
    expect(await tx((m) => m.fail([{ id: other.id, reason }]))).toEqual([]);
    expect(await amounts(other.balance_id)).toEqual(MONEY.failed);
  });

  it('the same move in two concurrent transactions moves the payment once (money moves once)', async () => {
    const seeded = await seed('sending');
    let firstMoved!: () => void;
    const moved = new Promise<void>((resolve) => (firstMoved = resolve));
    const first = tx(async (m) => {
      const rows = await m.fail([{ id: seeded.id, reason }]);
      firstMoved();
      await new Promise((resolve) => setTimeout(resolve, 300)); // hold the row lock while the second one tries
      return rows;
    });
    await moved;
    const second = tx((m) => m.fail([{ id: seeded.id, reason }]));
    const [a, b] = await Promise.all([first, second]);
    expect(a.map((r) => r.id)).toEqual([seeded.id]);
    expect(b).toEqual([]);
    expect(await amounts(seeded.balance_id)).toEqual(MONEY.failed);

    // Two different moves racing: only one of them happens.
    const raced = await seed('sending');
    const [succeeded, cancelled] = await Promise.all([
      tx((m) => m.succeed([{ id: raced.id, feeSats: 0, paymentHash: hex32(), preimage: hex32() }])),
      tx((m) => m.cancel([{ id: raced.id, reason }])),
    ]);
    expect(succeeded.length + cancelled.length).toBe(1);
    const status = (await paymentRow(raced.id)).status as PaymentStatus;
    expect(status).toBe(succeeded.length === 1 ? 'succeeded' : 'cancelled');
    expect(await amounts(raced.balance_id)).toEqual(MONEY[status]);
  });

  it('the database refuses a second succeeded payment with the same payment hash (nothing of that move stays)', async () => {
    const hash = hex32();
    const first = await seed('sending');
    const second = await seed('sending');
    await tx((m) => m.succeed([{ id: first.id, feeSats: 0, paymentHash: hash, preimage: hex32() }]));
    await expect(tx((m) => m.succeed([{ id: second.id, feeSats: 0, paymentHash: hash, preimage: hex32() }]))).rejects.toThrow(
      /payment_succeeded_hash_key|unique/i,
    );
    expect((await paymentRow(second.id)).status).toBe('sending');
    expect(await amounts(second.balance_id)).toEqual(MONEY.sending);
    // Directly too: the partial unique index itself, not only the move.
    await expect(prisma.payment.update({ where: { id: second.id }, data: { status: 'succeeded', paymentHash: hash } })).rejects.toThrow();
    // A failed payment may carry the same hash (only succeeded ones are unique).
    await tx((m) => m.fail([{ id: second.id, reason }]));
    await expect(prisma.payment.update({ where: { id: second.id }, data: { paymentHash: hash } })).resolves.toMatchObject({ paymentHash: hash });
  });

  it('create records every draft as given, pending with its preimage and records, before anything is sent; a crash then leaves it to recovery', async () => {
    const { recipientId, balanceId } = await newBalance();
    const payout = await prisma.payout.create({ data: { trigger: 'manual', status: 'running' } });
    const preimage = hex32();
    const records = { '7629169': JSON.stringify({ podcast: 'Bench "quoted", ünïcode', value_msat: 5000 }), '696969': 'x' };
    const drafts: PaymentDraft[] = [
      {
        balanceId,
        recipientId,
        reference: `ref-${hex32().slice(0, 16)}`,
        method: 'keysend',
        destination: pubkey(1),
        amountSats: 4n,
        attempt: 1,
        customRecords: records,
        preimage,
        paymentHash: 'ab'.repeat(32),
        simulated: true,
      },
      {
        balanceId,
        recipientId,
        reference: `ref-${hex32().slice(0, 16)}`,
        method: 'invoice',
        destination: 'ann@example.com',
        amountSats: 6n,
        attempt: 2,
        customRecords: {},
        comment: 'for Episode 1',
      },
    ];
    const rows = await tx((m) => m.create(payout.id, drafts));
    expect(rows.map((r) => r.reference)).toEqual(drafts.map((d) => d.reference));
    expect(rows[0]!.id < rows[1]!.id).toBe(true);
    expect(rows[0]).toMatchObject({
      payout_id: payout.id,
      balance_id: balanceId,
      recipient_id: recipientId,
      app_id: 'app',
      amount_sats: 4n,
      method: 'keysend',
      custom_records: records,
      preimage,
      payment_hash: 'ab'.repeat(32),
      sent_at: null,
    });
    const stored = await prisma.payment.findMany({ where: { payoutId: payout.id }, orderBy: { id: 'asc' } });
    expect(stored.map((p) => [p.status, p.attempt, p.simulated, p.comment, p.customRecords])).toEqual([
      ['pending', 1, true, null, records],
      ['pending', 2, false, 'for Episode 1', {}],
    ]);
    expect(await amounts(balanceId)).toMatchObject({ owed: ACCRUED_MSAT - AMOUNT_MSAT, inFlight: AMOUNT_MSAT });
    // Nothing was sent: what recovery does after a crash here, cancel them back to owed, is a move from pending.
    await tx((m) => m.cancel(rows.map((r) => ({ id: r.id, reason }))));
    expect(await amounts(balanceId)).toMatchObject({ owed: ACCRUED_MSAT, inFlight: 0n });
  });
});
