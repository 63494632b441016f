import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { type PaymentRow, Payments, type Verdict } from '@splitstream/payments';
import { type PaymentLookup, WALLET, type Wallet, type WalletPaymentRecord } from '@splitstream/wallet';
import { dispatchPayments } from './run/dispatch.js';
import { PayoutStore, type ReconcileScope } from './store/payout-store.js';
import { Locks, RECONCILE_LOCK, type SessionLock } from './store/session-lock.js';

export interface ReconcileReport {
  checked: number;
  paid: number; // the wallet has it settled (or paid it when sent again): settled with its hash, preimage and fee
  returnedToOwed: number; // the wallet's evidence says it was not paid: back to owed
  resent: number; // (NWC) the wallet has no record of it: sent again with the same preimage or invoice
  stillUnknown: number; // in flight, or absent but still within the time it could settle
}

const BATCH = 500;
const LOCK_WAIT_MS = 60_000;
const LOCK_POLL_MS = 250;

// What reconciliation does with one unknown payment, decided from the wallet's answer alone (pure).
export type ReconcileStep =
  { kind: 'paid'; record: WalletPaymentRecord; reason: string } | { kind: 'not_paid'; reason: string } | { kind: 'resend' } | { kind: 'wait'; reason: string };

export interface ReconcileRules {
  choosesPreimage: boolean; // the rail looks payments up by hash and re-sends them with the same hash (NWC)
  absentAfterSeconds: number; // RECONCILE_ABSENT_AFTER_SECONDS: the longest a payment may stay in flight
  resendAfterSeconds: number;
}

// Evidence rules per rail (README "Payment lifecycle"):
// - settled in the wallet: paid. Failed in the wallet (NWC lookup_invoice): not paid. Pending: wait.
// - NWC, absent (NOT_FOUND): the wallet never had it. Within its expiry window (an invoice's expiry; for a
//   keysend, RECONCILE_ABSENT_AFTER_SECONDS after it was sent) it is sent again with the same payment hash once
//   RECONCILE_RESEND_AFTER_SECONDS have passed; after the window, not paid.
// - Alby/LNDhub, absent from the settled list: proves nothing while it may be held; not paid only after
//   RECONCILE_ABSENT_AFTER_SECONDS (longer than any hold the service accepts).
export function reconcileStep(payment: PaymentRow, lookup: PaymentLookup | undefined, rules: ReconcileRules, now: Date): ReconcileStep {
  if (lookup?.state === 'settled') return { kind: 'paid', record: lookup.record, reason: 'the wallet has it settled' };
  if (lookup?.state === 'failed') return { kind: 'not_paid', reason: 'the wallet reports the payment failed' };
  if (lookup?.state === 'pending') return { kind: 'wait', reason: 'the wallet has it in flight' };
  const sentAt = (payment.sent_at ?? payment.created_at).getTime();
  const age = (now.getTime() - sentAt) / 1000;
  const resendable = rules.choosesPreimage && payment.payment_hash !== null && (payment.preimage !== null || payment.invoice !== null);
  if (resendable) {
    const windowEnds = payment.invoice_expires_at?.getTime() ?? sentAt + rules.absentAfterSeconds * 1000;
    if (now.getTime() > windowEnds) return { kind: 'not_paid', reason: 'the wallet has no record of it and its expiry window has passed' };
    if (age >= rules.resendAfterSeconds) return { kind: 'resend' };
    return { kind: 'wait', reason: 'the wallet has no record of it yet' };
  }
  if (age >= rules.absentAfterSeconds) {
    return { kind: 'not_paid', reason: `not among the wallet's settled payments ${rules.absentAfterSeconds} s after it was sent (longer than any hold)` };
  }
  return { kind: 'wait', reason: "not among the wallet's settled payments yet; it may still be held" };
}

// Settles unknown payments from the wallet's records, in the worker only. One reconciliation at a time across
// every worker (a session lock): each unknown payment is looked up, and sent again, by one owner. An unknown
// payment is never sent again with a new preimage, and an answer to a re-send other than paid (such as "already
// paid") never fails it: only a lookup's evidence does.
@Injectable()
export class Reconciliation {
  private readonly logger = new Logger(Reconciliation.name);

  constructor(
    private readonly store: PayoutStore,
    private readonly payments: Payments,
    @Inject(WALLET) private readonly wallet: Wallet,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly locks: Locks,
  ) {}

  private get rules(): ReconcileRules {
    return {
      choosesPreimage: this.wallet.choosesPreimage,
      absentAfterSeconds: this.config.RECONCILE_ABSENT_AFTER_SECONDS,
      resendAfterSeconds: this.config.RECONCILE_RESEND_AFTER_SECONDS,
    };
  }

  async reconcile(scope: ReconcileScope = { tenant: null }, now = new Date()): Promise<ReconcileReport> {
    const lock = await this.acquire();
    try {
      return await this.reconcileLocked(scope, now);
    } finally {
      await lock.release();
    }
  }

  private async acquire(): Promise<SessionLock> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      const lock = await this.locks.tryAcquire(RECONCILE_LOCK);
      if (lock) return lock;
      if (Date.now() > deadline) throw new Error('another reconciliation has been running for over a minute');
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }

  private async reconcileLocked(scope: ReconcileScope, now: Date): Promise<ReconcileReport> {
    const report: ReconcileReport = { checked: 0, paid: 0, returnedToOwed: 0, resent: 0, stillUnknown: 0 };
    for (let afterId = 0n; ;) {
      const unknown = await this.store.unknownPayments(scope, afterId, BATCH);
      if (unknown.length === 0) break;
      afterId = unknown.at(-1)!.id;
      const oldest = new Date(Math.min(...unknown.map((p) => (p.sent_at ?? p.created_at).getTime())));
      const lookups = await this.wallet.findPayments(
        unknown.map((p) => ({ reference: p.reference, paymentHash: p.payment_hash })),
        oldest,
      );
      for (const payment of unknown) {
        report.checked++;
        const step = reconcileStep(payment, lookups.get(payment.reference), this.rules, now);
        switch (step.kind) {
          case 'paid':
            if (await this.settle(payment, step)) report.paid++;
            break;
          case 'not_paid':
            if (await this.settle(payment, step)) report.returnedToOwed++;
            break;
          case 'resend':
            report.resent++;
            if (!(await this.resend(payment))) report.stillUnknown++;
            break;
          case 'wait':
            await this.payments.transaction((moves) => moves.noteCheck(payment.id, step.reason));
            report.stillUnknown++;
            break;
        }
      }
      if (unknown.length < BATCH) break;
    }
    if (report.checked > 0) this.logger.log(report, 'reconciled unknown payments');
    return report;
  }

  private async settle(payment: PaymentRow, step: Extract<ReconcileStep, { kind: 'paid' | 'not_paid' }>): Promise<boolean> {
    const verdict: Verdict = {
      basis: 'wallet',
      decidedBy: 'reconciliation',
      reason: step.reason,
      evidence: { rail: this.wallet.choosesPreimage ? 'nwc' : 'alby' },
    };
    const settled = await this.payments.transaction(async (moves) => {
      await moves.noteCheck(payment.id, step.reason);
      if (step.kind === 'paid') {
        const { feeSats, paymentHash, preimage } = step.record;
        return moves.settleUnknown(
          { id: payment.id, paid: { feeSats, paymentHash, preimage } },
          { ...verdict, evidence: { ...verdict.evidence, paymentHash } },
        );
      }
      return moves.settleUnknown({ id: payment.id, reason: { code: null, message: step.reason } }, verdict);
    });
    return settled !== undefined;
  }

  // The same payment again, same preimage or invoice. True when that settled it: the wallet paid it now, or,
  // answering anything else (such as "already paid"), shows it settled when looked up again at once. Otherwise it
  // stays unknown: an answer to a re-send never fails a payment.
  private async resend(payment: PaymentRow): Promise<boolean> {
    const {
      outcomes: [outcome],
    } = await dispatchPayments(this.wallet, [payment], { maxRateLimitWaits: 0, maxWaitMs: 0 });
    if (outcome?.status === 'paid') {
      const { amountSats, feeSats, paymentHash, preimage } = outcome;
      return this.settle(payment, {
        kind: 'paid',
        record: { amountSats, feeSats, paymentHash, preimage },
        reason: 'the wallet paid it when sent again with the same payment hash',
      });
    }
    const answer = outcome?.status === 'not_paid' ? outcome.message : (outcome?.reason ?? 'no answer');
    const lookup = (
      await this.wallet.findPayments([{ reference: payment.reference, paymentHash: payment.payment_hash }], payment.sent_at ?? payment.created_at)
    ).get(payment.reference);
    if (lookup?.state === 'settled') {
      return this.settle(payment, { kind: 'paid', record: lookup.record, reason: `sent again, the wallet answered "${answer}" and has it settled` });
    }
    await this.payments.transaction((moves) => moves.noteCheck(payment.id, `sent again with the same payment hash; the wallet answered: ${answer}`));
    return false;
  }
}
