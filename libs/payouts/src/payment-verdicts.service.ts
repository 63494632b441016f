import { Injectable } from '@nestjs/common';
import { PaymentStatus } from '@splitstream/ledger';
import { paymentHashOf } from '@splitstream/money';
import { type PaymentMoves, Payments, type Verdict } from '@splitstream/payments';
import { PrismaService } from '@splitstream/persistence';
import { Locks, RECONCILE_LOCK } from './store/session-lock.js';

// What an operator asks of an unknown payment: paid, with a preimage of its payment hash as proof; or not paid,
// an admin's override without evidence (confirmed, with a reason). Asking the wallet is reconciliation's job.
export type VerdictRequest = { outcome: 'succeeded'; preimage: string } | { outcome: 'failed'; confirm: true; reason: string };

export type VerdictResult =
  | { kind: 'settled'; status: PaymentStatus }
  | { kind: 'not_found' }
  | { kind: 'not_unknown'; status: string }
  | { kind: 'busy' } // a reconciliation is running: it may be sending this very payment again
  | { kind: 'bad_evidence'; message: string };

// Operators' verdicts on unknown payments, each recorded as a PaymentVerdict (who, when, why, on what evidence).
// The api has no wallet: proof is a preimage, or, without evidence, an admin's override; a look in the wallet is a
// reconciliation the worker runs.
@Injectable()
export class PaymentVerdicts {
  constructor(
    private readonly prisma: PrismaService,
    private readonly payments: Payments,
    private readonly locks: Locks,
  ) {}

  // `tenant`: only a payment of this app's balances (null: any). `decidedBy`: the key that asked.
  async decide(id: bigint, tenant: string | null, request: VerdictRequest, decidedBy: string): Promise<VerdictResult> {
    const payment = await this.prisma.payment.findFirst({
      where: { id, ...(tenant !== null && { balance: { appId: tenant } }) },
      select: { status: true, paymentHash: true, checkedAt: true, checkResult: true },
    });
    if (!payment) return { kind: 'not_found' };
    if (payment.status !== PaymentStatus.Unknown) return { kind: 'not_unknown', status: payment.status };
    const lastCheck = { checkedAt: payment.checkedAt?.toISOString() ?? null, walletSaid: payment.checkResult };
    if (request.outcome === 'succeeded') {
      if (!payment.paymentHash) {
        return { kind: 'bad_evidence', message: "this payment's hash was never known (the wallet chose it): check the wallet instead" };
      }
      const preimage = request.preimage.toLowerCase();
      if (paymentHashOf(preimage) !== payment.paymentHash) return { kind: 'bad_evidence', message: "the preimage does not hash to the payment's hash" };
      return this.settle(
        id,
        { id, paid: { feeSats: null, paymentHash: payment.paymentHash, preimage } },
        { basis: 'preimage', decidedBy, reason: 'a preimage of its payment hash', evidence: { ...lastCheck, preimage } },
      );
    }
    // Not while a reconciliation runs: it may be sending this payment again right now, and a payment marked not
    // paid is paid again by the next run. Holding its lock keeps one owner per unknown payment.
    const lock = await this.locks.tryAcquire(RECONCILE_LOCK);
    if (!lock) return { kind: 'busy' };
    try {
      return await this.settle(
        id,
        { id, reason: { code: 'override', message: `marked not paid by ${decidedBy}: ${request.reason}` } },
        { basis: 'override', decidedBy, reason: request.reason, evidence: lastCheck },
      );
    } finally {
      await lock.release();
    }
  }

  private async settle(id: bigint, item: Parameters<PaymentMoves['settleUnknown']>[0], verdict: Verdict): Promise<VerdictResult> {
    const row = await this.payments.transaction((moves) => moves.settleUnknown(item, verdict));
    if (row) return { kind: 'settled', status: 'paid' in item ? PaymentStatus.Succeeded : PaymentStatus.Failed };
    const now = await this.prisma.payment.findUnique({ where: { id }, select: { status: true } });
    return { kind: 'not_unknown', status: now?.status ?? 'gone' };
  }
}
