import { type AppRecipientKey, type PaymentAmount, PayoutStatus } from '@splitstream/ledger';
import type { PaymentMoves, Reason } from '@splitstream/payments';
import type { Prisma } from '@splitstream/persistence';
import type { PaymentOutcome } from '@splitstream/wallet';
import { type RecipientStanding, type RecipientStore, type RecipientUpdate, standingKey } from '../store/recipient-store.js';

// Phase 3 of a payout run: outcomes become movements of money. Deciding is pure; applying is one transaction of
// the payments' moves (libs/payments) and the recipients' updates.

export interface SentPayment extends PaymentAmount, AppRecipientKey {}

export interface RetryPolicy {
  baseSeconds: number;
  maxSeconds: number;
  maxAttempts: number;
}

export interface RecordDecision {
  succeeded: { payment: SentPayment; feeSats: number; paymentHash: string; preimage: string }[];
  failed: { payment: SentPayment; reason: Reason }[]; // certainly not paid, the recipient's failure: back to owed
  cancelled: { payment: SentPayment; reason: Reason }[]; // never sent, nobody's fault: back to owed
  unknown: { payment: SentPayment; reason: string }[]; // may be paid: stays in flight
  recipients: RecipientUpdate[];
}

// Exponential backoff for a recipient after `failures` consecutive failed keysends.
export function retryDelaySeconds(failures: number, baseSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, failures - 1));
}

const reasonOf = (outcome: { code: number | string | null; message: string }): Reason => ({
  code: outcome.code === null ? null : String(outcome.code),
  message: outcome.message,
});

// One more consecutive failure for a recipient with one app's money: back off exponentially, park after maxAttempts.
export function failRecipient(standing: RecipientStanding, reason: Reason, policy: RetryPolicy, now: Date): RecipientUpdate {
  const key = { recipientId: standing.recipientId, appId: standing.appId };
  const failures = standing.consecutiveFailures + 1;
  if (failures >= policy.maxAttempts) return { ...key, kind: 'park', failures, reason };
  const delay = retryDelaySeconds(failures, policy.baseSeconds, policy.maxSeconds);
  return { ...key, kind: 'backoff', failures, nextAttemptAt: new Date(now.getTime() + delay * 1000), reason };
}

const standingOf = (standings: Map<string, RecipientStanding>, key: AppRecipientKey): RecipientStanding =>
  standings.get(standingKey(key)) ?? { recipientId: key.recipientId, appId: key.appId, consecutiveFailures: 0 };

export interface RecipientFailure extends AppRecipientKey {
  reason: Reason;
}

// One more failure for each of these (recipient, app)s, in the caller's transaction: one listed more than once
// counts once, with its last reason.
export async function failRecipients(
  recipients: Pick<RecipientStore, 'standings' | 'apply'>,
  tx: Prisma.TransactionClient,
  failures: RecipientFailure[],
  policy: RetryPolicy,
  now = new Date(),
): Promise<void> {
  if (failures.length === 0) return;
  const latest = new Map(failures.map((f) => [standingKey(f), f]));
  const standings = await recipients.standings(tx, [...latest.values()]);
  await recipients.apply(
    tx,
    [...latest.values()].map((f) => failRecipient(standingOf(standings, f), f.reason, policy, now)),
  );
}

export function decideRecord(
  sent: SentPayment[],
  outcomes: PaymentOutcome[],
  standings: Map<string, RecipientStanding>,
  policy: RetryPolicy,
  now: Date,
): RecordDecision {
  const decision: RecordDecision = { succeeded: [], failed: [], cancelled: [], unknown: [], recipients: [] };
  const failures = new Map<string, RecipientFailure>();
  const paid = new Map<string, AppRecipientKey>();
  sent.forEach((payment, i) => {
    const outcome = outcomes[i] ?? { status: 'unknown', reason: 'no outcome for this payment' };
    switch (outcome.status) {
      case 'paid':
        decision.succeeded.push({ payment, feeSats: outcome.feeSats, paymentHash: outcome.paymentHash, preimage: outcome.preimage });
        paid.set(standingKey(payment), { recipientId: payment.recipientId, appId: payment.appId });
        break;
      case 'not_paid':
        if (outcome.scope === 'item') {
          decision.failed.push({ payment, reason: reasonOf(outcome) });
          failures.set(standingKey(payment), { recipientId: payment.recipientId, appId: payment.appId, reason: reasonOf(outcome) });
        } else {
          decision.cancelled.push({ payment, reason: reasonOf(outcome) });
        }
        break;
      case 'unknown':
        decision.unknown.push({ payment, reason: outcome.reason });
        break;
    }
  });
  // A (recipient, app) counts one failure per chunk however many of its keysends failed; success resets it.
  for (const failure of failures.values()) decision.recipients.push(failRecipient(standingOf(standings, failure), failure.reason, policy, now));
  for (const [key, recovered] of paid) if (!failures.has(key)) decision.recipients.push({ ...recovered, kind: 'recovered' });
  return decision;
}

export interface RunCounts {
  keysends: number;
  succeeded: number;
  failed: number;
  unknown: number;
  cancelled: number;
}

// The final status of a run that ended (see PayoutStatus), with its note.
export function finalRunStatus(counts: RunCounts, stopReason?: string): { status: PayoutStatus; note: string | null } {
  if (counts.keysends === 0 && !stopReason) return { status: PayoutStatus.Completed, note: 'nothing owed was due' };
  if (stopReason && counts.succeeded === 0) return { status: PayoutStatus.Failed, note: stopReason };
  if (counts.succeeded === counts.keysends && !stopReason) return { status: PayoutStatus.Completed, note: null };
  return { status: PayoutStatus.Partial, note: stopReason ?? null };
}

// Moves a decision's payments in the caller's transaction (the recipients' updates are the caller's): each payment
// moves only from `sending` (cancellations from `pending` too), so a run that was taken over cannot overwrite what
// recovery decided.
export async function applyDecision(moves: PaymentMoves, decision: RecordDecision): Promise<void> {
  const id = (item: { payment: SentPayment }) => item.payment.paymentId;
  await moves.succeed(decision.succeeded.map((s) => ({ id: id(s), feeSats: s.feeSats, paymentHash: s.paymentHash, preimage: s.preimage })));
  await moves.fail(decision.failed.map((f) => ({ id: id(f), reason: f.reason })));
  await moves.cancel(decision.cancelled.map((c) => ({ id: id(c), reason: c.reason })));
  await moves.markUnknown(decision.unknown.map((u) => ({ id: id(u), reason: { code: null, message: u.reason } })));
}
