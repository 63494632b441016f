import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PaymentStatus } from '@splitstream/ledger';
import { paymentHashOf } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { PaymentMoves, Payments } from '@splitstream/payments';
import { PrismaService } from '@splitstream/persistence';
import type { KeysendRequest, PaymentLookup, PaymentOutcome, SentPayment, Wallet } from '@splitstream/wallet';
import { pubkey } from '../../money/src/testing/value-builders.js';
import { seedBalance } from '../../../test/support/ledger-seed.js';
import { testConfig } from '../../../test/support/test-config.js';
import { Reconciliation } from './reconciliation.service.js';
import { PayoutStore } from './store/payout-store.js';
import { Locks } from './store/session-lock.js';

// Reconciliation against the real PostgreSQL (its payments, books and session lock) and a wallet that records
// every request: an NWC-like rail where splitstream chose each preimage.
describe('Reconciliation: one owner per unknown payment (integration)', () => {
  // Its report line would fill the test output.
  beforeAll(() => jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());
  const config = testConfig({ RECONCILE_RESEND_AFTER_SECONDS: '60' });
  const prisma = new PrismaService(config);
  const payments = new Payments(prisma, new MetricsService('worker'));

  // The wallet has no record of a payment until it is sent again. `resendAnswer`: `paid`, it pays the re-send;
  // `already_paid`, it had paid the payment after all (it shows from the next lookup on) and answers the re-send as
  // Alby Hub and the development wallet do, with an error; `refused`, it refuses the re-send and never has it.
  class RecordingWallet implements Wallet {
    readonly choosesPreimage = true;
    readonly resent: KeysendRequest[] = [];
    private readonly paid = new Map<string, string>(); // payment hash -> preimage
    constructor(private readonly resendAnswer: 'paid' | 'already_paid' | 'refused') {}
    status = async () => ({ reachable: true, authorized: true });
    payInvoices = async () => [];
    async payKeysends(requests: KeysendRequest[]): Promise<PaymentOutcome[]> {
      await new Promise((resolve) => setTimeout(resolve, 50)); // a real round trip: overlapping reconciliations would overlap here
      this.resent.push(...requests);
      return requests.map((r): PaymentOutcome => {
        const paymentHash = paymentHashOf(r.preimage!);
        switch (this.resendAnswer) {
          case 'paid':
            this.paid.set(paymentHash, r.preimage!);
            return { status: 'paid', amountSats: r.amountSats, feeSats: 1, paymentHash, preimage: r.preimage!, destination: r.destination, customRecords: {} };
          case 'already_paid':
            this.paid.set(paymentHash, r.preimage!);
            return { status: 'unknown', reason: 'OTHER: a payment with this payment hash already exists' };
          case 'refused':
            return { status: 'not_paid', code: 'PAYMENT_FAILED', message: 'no route', scope: 'item' };
        }
      });
    }
    async findPayments(sent: SentPayment[]): Promise<Map<string, PaymentLookup>> {
      const found = new Map<string, PaymentLookup>();
      for (const p of sent) {
        const preimage = p.paymentHash ? this.paid.get(p.paymentHash) : undefined;
        if (preimage) found.set(p.reference, { state: 'settled', record: { amountSats: 10, feeSats: 1, paymentHash: p.paymentHash!, preimage } });
      }
      return found;
    }
  }

  // An unknown keysend (sent two minutes ago, its answer lost), its 10 sats in flight.
  const unknownPayment = async () => {
    const { recipientId, balanceId } = await seedBalance(prisma, pubkey(2), 10_000n);
    const payout = await prisma.payout.create({ data: { trigger: 'manual', status: 'completed' } });
    const preimage = randomBytes(32).toString('hex');
    return prisma.$transaction(async (tx) => {
      const moves = new PaymentMoves(tx);
      const [row] = await moves.create(payout.id, [
        {
          balanceId,
          recipientId,
          reference: `ref-${preimage.slice(0, 16)}`,
          method: 'keysend',
          destination: pubkey(2),
          amountSats: 10n,
          attempt: 1,
          customRecords: {},
          preimage,
          paymentHash: paymentHashOf(preimage),
        },
      ]);
      await moves.claim([row!.id]);
      await moves.markUnknown([{ id: row!.id, reason: { code: null, message: 'no answer' } }]);
      await tx.payment.update({ where: { id: row!.id }, data: { sentAt: new Date(Date.now() - 120_000) } });
      return row!.id;
    });
  };

  const reconciliation = (wallet: Wallet) => new Reconciliation(new PayoutStore(prisma), payments, wallet, config, new Locks(config));

  afterAll(() => prisma.$disconnect());

  it('three reconciliations at once look each payment up and send it again once: paid once, one verdict each', async () => {
    const ids = [await unknownPayment(), await unknownPayment(), await unknownPayment()];
    const wallet = new RecordingWallet('paid');
    const scope = { tenant: null, paymentIds: ids };
    const reports = await Promise.all([reconciliation(wallet), reconciliation(wallet), reconciliation(wallet)].map((r) => r.reconcile(scope)));

    expect(wallet.resent).toHaveLength(3);
    expect(new Set(wallet.resent.map((r) => r.preimage)).size).toBe(3);
    expect(reports.reduce((sum, r) => sum + r.resent, 0)).toBe(3);
    expect(reports.reduce((sum, r) => sum + r.stillUnknown, 0)).toBe(0);
    for (const id of ids) {
      const payment = await prisma.payment.findUniqueOrThrow({ where: { id }, include: { verdicts: true, balance: true } });
      expect(payment.status).toBe(PaymentStatus.Succeeded);
      expect(payment.verdicts).toHaveLength(1);
      expect(payment.verdicts[0]).toMatchObject({ outcome: 'succeeded', basis: 'wallet', decidedBy: 'reconciliation' });
      expect(payment.balance).toMatchObject({ inFlightMsat: 0n, paidMsat: 10_000n });
    }
  });

  it('a re-send answered "already paid" means paid (the wallet has it settled when looked up again), never failed', async () => {
    const id = await unknownPayment();
    const report = await reconciliation(new RecordingWallet('already_paid')).reconcile({ tenant: null, paymentIds: [id] });
    expect(report).toMatchObject({ checked: 1, resent: 1, stillUnknown: 0, returnedToOwed: 0 });
    const payment = await prisma.payment.findUniqueOrThrow({ where: { id }, include: { balance: true, verdicts: true } });
    expect(payment.status).toBe(PaymentStatus.Succeeded);
    expect(payment.balance).toMatchObject({ inFlightMsat: 0n, paidMsat: 10_000n });
    expect(payment.verdicts).toEqual([expect.objectContaining({ outcome: 'succeeded', basis: 'wallet', reason: expect.stringMatching(/already exists/) })]);
  });

  it('a refused re-send leaves the payment unknown (its money in flight): only a lookup can fail it', async () => {
    const id = await unknownPayment();
    const report = await reconciliation(new RecordingWallet('refused')).reconcile({ tenant: null, paymentIds: [id] });
    expect(report).toMatchObject({ checked: 1, resent: 1, stillUnknown: 1, returnedToOwed: 0 });
    const payment = await prisma.payment.findUniqueOrThrow({ where: { id }, include: { balance: true, verdicts: true } });
    expect(payment).toMatchObject({ status: PaymentStatus.Unknown, checkResult: expect.stringMatching(/no route/) });
    expect(payment.balance).toMatchObject({ inFlightMsat: 10_000n, owedMsat: 0n });
    expect(payment.verdicts).toEqual([]);
  });
});
