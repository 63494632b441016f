import { KeysendStatus, PayoutStatus, park, release, settle, type KeysendAmount } from '@splitstream/ledger';
import type { Prisma } from '@splitstream/persistence';
import type { PaymentOutcome } from '@splitstream/wallet';

type Tx = Prisma.TransactionClient;

// Phase 3 of a payout run: outcomes become movements of money. Deciding is pure (this file's first half);
// applying is one transaction of set-based statements.

export interface SentKeysend extends KeysendAmount {
  recipientId: bigint;
}

export interface RecipientStanding {
  id: bigint;
  consecutiveFailures: number;
}

export interface RetryPolicy {
  baseSeconds: number;
  maxSeconds: number;
  maxAttempts: number;
}

export interface Reason {
  code: string | null;
  message: string;
}

export type RecipientUpdate =
  | { id: bigint; kind: 'recovered' }
  | { id: bigint; kind: 'backoff'; failures: number; nextAttemptAt: Date; reason: Reason }
  | { id: bigint; kind: 'park'; failures: number; reason: Reason };

export interface RecordDecision {
  succeeded: { keysend: SentKeysend; feeSats: number; paymentHash: string; preimage: string }[];
  failed: { keysend: SentKeysend; reason: Reason }[]; // certainly not paid, the recipient's failure: back to owed
  cancelled: { keysend: SentKeysend; reason: Reason }[]; // never sent, nobody's fault: back to owed
  unknown: { keysend: SentKeysend; reason: string }[]; // may be paid: stays in flight
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

export function decideRecord(
  sent: SentKeysend[],
  outcomes: PaymentOutcome[],
  standings: Map<bigint, RecipientStanding>,
  policy: RetryPolicy,
  now: Date,
): RecordDecision {
  const decision: RecordDecision = { succeeded: [], failed: [], cancelled: [], unknown: [], recipients: [] };
  const failures = new Map<bigint, Reason>();
  const paid = new Set<bigint>();
  sent.forEach((keysend, i) => {
    const outcome = outcomes[i] ?? { status: 'unknown', reason: 'no outcome for this keysend' };
    switch (outcome.status) {
      case 'paid':
        decision.succeeded.push({ keysend, feeSats: outcome.feeSats, paymentHash: outcome.paymentHash, preimage: outcome.preimage });
        paid.add(keysend.recipientId);
        break;
      case 'not_paid':
        if (outcome.scope === 'item') {
          decision.failed.push({ keysend, reason: reasonOf(outcome) });
          failures.set(keysend.recipientId, reasonOf(outcome));
        } else {
          decision.cancelled.push({ keysend, reason: reasonOf(outcome) });
        }
        break;
      case 'unknown':
        decision.unknown.push({ keysend, reason: outcome.reason });
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

const ids = (items: { keysend: SentKeysend }[]) => items.map((i) => String(i.keysend.keysendId));

// Keysends move only from the statuses they can be in when this is decided (`sending`; `pending` too for a
// cancellation): a run that was taken over (its worker presumed dead) cannot overwrite what recovery decided.
// Returns the keysends that did move.
async function finish(
  tx: Tx,
  items: { keysend: SentKeysend }[],
  status: KeysendStatus,
  reasons: (Reason | null)[],
  from: KeysendStatus[] = [KeysendStatus.Sending],
): Promise<SentKeysend[]> {
  if (items.length === 0) return [];
  const moved = await tx.$queryRaw<{ id: bigint }[]>`
    UPDATE keysend k SET status = ${status}, error_code = d.code, error_message = d.message, finished_at = now()
    FROM unnest(${ids(items)}::bigint[], ${reasons.map((r) => r?.code ?? null)}::text[], ${reasons.map((r) => r?.message ?? null)}::text[]) AS d(id, code, message)
    WHERE k.id = d.id AND k.status = ANY(${from}::text[])
    RETURNING k.id`;
  const movedIds = new Set(moved.map((m) => m.id));
  return items.map((i) => i.keysend).filter((k) => movedIds.has(k.keysendId));
}

// Returns the succeeded keysends that were recorded (those still `sending`).
export async function applyRecord(tx: Tx, decision: RecordDecision): Promise<{ succeeded: SentKeysend[] }> {
  const { succeeded } = decision;
  let settled: SentKeysend[] = [];
  if (succeeded.length > 0) {
    const moved = await tx.$queryRaw<{ id: bigint }[]>`
      UPDATE keysend k SET status = ${KeysendStatus.Succeeded}, fee_sats = d.fee, payment_hash = d.hash, preimage = d.preimage,
             error_code = NULL, error_message = NULL, finished_at = now()
      FROM unnest(${ids(succeeded)}::bigint[], ${succeeded.map((s) => s.feeSats)}::int[], ${succeeded.map((s) => s.paymentHash)}::text[],
                  ${succeeded.map((s) => s.preimage)}::text[]) AS d(id, fee, hash, preimage)
      WHERE k.id = d.id AND k.status = ${KeysendStatus.Sending}
      RETURNING k.id`;
    const movedIds = new Set(moved.map((m) => m.id));
    settled = succeeded.filter((s) => movedIds.has(s.keysend.keysendId)).map((s) => s.keysend);
    await settle(tx, settled);
  }
  const failed = await finish(tx, decision.failed, KeysendStatus.Failed, decision.failed.map((f) => f.reason));
  const cancelled = await finish(tx, decision.cancelled, KeysendStatus.Cancelled, decision.cancelled.map((c) => c.reason), [
    KeysendStatus.Pending,
    KeysendStatus.Sending,
  ]);
  await release(tx, [...failed, ...cancelled]);
  await finish(tx, decision.unknown, KeysendStatus.Unknown, decision.unknown.map((u) => ({ code: null, message: u.reason })));
  await applyRecipientUpdates(tx, decision.recipients);
  return { succeeded: settled };
}

// The recipients' failure counts, their rows locked for the update that follows.
export async function standingsOf(tx: Tx, recipientIds: bigint[]): Promise<Map<bigint, RecipientStanding>> {
  const rows = await tx.$queryRaw<{ id: bigint; consecutive_failures: number }[]>`
    SELECT id, consecutive_failures FROM recipient WHERE id = ANY(${recipientIds.map(String)}::bigint[]) ORDER BY id FOR UPDATE`;
  return new Map(rows.map((r) => [r.id, { id: r.id, consecutiveFailures: r.consecutive_failures }]));
}

export async function applyRecipientUpdates(tx: Tx, updates: RecipientUpdate[]): Promise<void> {
  // Recoveries are most of a healthy run (every paid recipient): one statement for all of them, writing only the
  // recipients that had something to forget.
  const recovered = updates.filter((u) => u.kind === 'recovered').map((u) => u.id);
  if (recovered.length > 0) {
    await tx.recipient.updateMany({
      where: { id: { in: recovered }, OR: [{ consecutiveFailures: { gt: 0 } }, { nextAttemptAt: { not: null } }, { lastErrorCode: { not: null } }, { lastErrorMessage: { not: null } }] },
      data: { consecutiveFailures: 0, nextAttemptAt: null, lastErrorCode: null, lastErrorMessage: null },
    });
  }
  for (const update of updates) {
    switch (update.kind) {
      case 'backoff':
        await tx.recipient.update({
          where: { id: update.id },
          data: {
            consecutiveFailures: update.failures,
            nextAttemptAt: update.nextAttemptAt,
            lastErrorCode: update.reason.code,
            lastErrorMessage: update.reason.message,
          },
        });
        break;
      case 'park':
        await tx.recipient.update({ where: { id: update.id }, data: { consecutiveFailures: update.failures } });
        await park(tx, update.id, update.reason);
        break;
    }
  }
}
