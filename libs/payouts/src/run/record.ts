import { type PaymentAmount, PayoutStatus } from '@splitstream/ledger';
import type { PaymentMoves, Reason } from '@splitstream/payments';
import type { Prisma } from '@splitstream/persistence';
import type { PaymentOutcome } from '@splitstream/wallet';
import type { RecipientStanding, RecipientStore, RecipientUpdate } from '../store/recipient-store.js';

// Phase 3 of a payout run: outcomes become movements of money. Deciding is pure; applying is one transaction of
// the payments' moves (libs/payments) and the recipients' updates.

export interface SentPayment extends PaymentAmount {
  recipientId: bigint;
}

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

// One more consecutive failure for a recipient: back off exponentially, park after maxAttempts.
export function failRecipient(standing: RecipientStanding, reason: Reason, policy: RetryPolicy, now: Date): RecipientUpdate {
  const failures = standing.consecutiveFailures + 1;
  if (failures >= policy.maxAttempts) return { id: standing.id, kind: 'park', failures, reason };
  const delay = retryDelaySeconds(failures, policy.baseSeconds, policy.maxSeconds);
  return { id: standing.id, kind: 'backoff', failures, nextAttemptAt: new Date(now.getTime() + delay * 1000), reason };
}

// One more failure for each of these recipients, in the caller's transaction: a recipient listed more than once
// counts once, with its last reason.
export async function failRecipients(
  recipients: Pick<RecipientStore, 'standings' | 'apply'>,
  tx: Prisma.TransactionClient,
  failures: { id: bigint; reason: Reason }[],
  policy: RetryPolicy,
  now = new Date(),
): Promise<void> {
  if (failures.length === 0) return;
  const reasons = new Map(failures.map((f) => [f.id, f.reason]));
  const standings = await recipients.standings(tx, [...reasons.keys()]);
  await recipients.apply(
    tx,
    [...reasons].map(([id, reason]) => failRecipient(standings.get(id) ?? { id, consecutiveFailures: 0 }, reason, policy, now)),
  );
}

export function decideRecord(
  sent: SentPayment[],
  outcomes: PaymentOutcome[],
  standings: Map<bigint, RecipientStanding>,
  policy: RetryPolicy,
  now: Date,
): RecordDecision {
  const decision: RecordDecision = { succeeded: [], failed: [], cancelled: [], unknown: [], recipients: [] };
  const failures = new Map<bigint, Reason>();
  const paid = new Set<bigint>();
  sent.forEach((payment, i) => {
    const outcome = outcomes[i] ?? { status: 'unknown', reason: 'no outcome for this payment' };
    switch (outcome.status) {
      case 'paid':
        decision.succeeded.push({ payment, feeSats: outcome.feeSats, paymentHash: outcome.paymentHash, preimage: outcome.preimage });
        paid.add(payment.recipientId);
        break;
      case 'not_paid':
        if (outcome.scope === 'item') {
          decision.failed.push({ payment, reason: reasonOf(outcome) });
          failures.set(payment.recipientId, reasonOf(outcome));
        } else {
          decision.cancelled.push({ payment, reason: reasonOf(outcome) });
        }
        break;
      case 'unknown':
        decision.unknown.push({ payment, reason: outcome.reason });
        break;
    }
  });
  // A recipient counts one failure per chunk however many of its keysends failed; success resets it.
  for (const [id, reason] of failures) {
    decision.recipients.push(failRecipient(standings.get(id) ?? { id, consecutiveFailures: 0 }, reason, policy, now));
  }
  for (const id of paid) if (!failures.has(id)) decision.recipients.push({ id, kind: 'recovered' });
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
