import { Injectable } from '@nestjs/common';
import { type AppRecipientKey, park } from '@splitstream/ledger';
import type { Reason } from '@splitstream/payments';
import type { Prisma } from '@splitstream/persistence';

type Tx = Prisma.TransactionClient;

// Recipients' standing after payments, per (recipient, app): failures back that app's money for the recipient off,
// then park it; a payment resets it. One app's failures never touch another app's standing for the same node.

export interface RecipientStanding extends AppRecipientKey {
  consecutiveFailures: number;
}

export type RecipientUpdate = AppRecipientKey &
  ({ kind: 'recovered' } | { kind: 'backoff'; failures: number; nextAttemptAt: Date; reason: Reason } | { kind: 'park'; failures: number; reason: Reason });

// The key of a (recipient, app) in maps.
export const standingKey = (k: AppRecipientKey): string => `${k.recipientId} ${k.appId}`;

// The standings' failure counts, their rows locked for the update that follows (in one order: no deadlocks).
async function standingsOf(tx: Tx, keys: AppRecipientKey[]): Promise<Map<string, RecipientStanding>> {
  if (keys.length === 0) return new Map();
  const rows = await tx.$queryRaw<{ recipient_id: bigint; app_id: string; consecutive_failures: number }[]>`
    SELECT ar.recipient_id, ar.app_id, ar.consecutive_failures FROM app_recipient ar
    JOIN unnest(${keys.map((k) => String(k.recipientId))}::bigint[], ${keys.map((k) => k.appId)}::text[]) AS k(r, a) ON ar.recipient_id = k.r AND ar.app_id = k.a
    ORDER BY ar.recipient_id, ar.app_id FOR UPDATE OF ar`;
  return new Map(
    rows.map((r) => {
      const standing = { recipientId: r.recipient_id, appId: r.app_id, consecutiveFailures: r.consecutive_failures };
      return [standingKey(standing), standing];
    }),
  );
}

async function applyRecipientUpdates(tx: Tx, updates: RecipientUpdate[]): Promise<void> {
  // Recoveries are most of a healthy run (every paid recipient): one statement for all of them, writing only the
  // standings that had something to forget.
  const recovered = updates.filter((u) => u.kind === 'recovered');
  if (recovered.length > 0) {
    await tx.$executeRaw`
      UPDATE app_recipient ar SET consecutive_failures = 0, next_attempt_at = NULL, last_error_code = NULL, last_error_message = NULL, last_error_detail = NULL
      FROM unnest(${recovered.map((u) => String(u.recipientId))}::bigint[], ${recovered.map((u) => u.appId)}::text[]) AS k(r, a)
      WHERE ar.recipient_id = k.r AND ar.app_id = k.a
        AND (ar.consecutive_failures > 0 OR ar.next_attempt_at IS NOT NULL OR ar.last_error_code IS NOT NULL
             OR ar.last_error_message IS NOT NULL OR ar.last_error_detail IS NOT NULL)`;
  }
  for (const update of updates) {
    const where = { recipientId_appId: { recipientId: update.recipientId, appId: update.appId } };
    switch (update.kind) {
      case 'backoff':
        await tx.appRecipient.update({
          where,
          data: {
            consecutiveFailures: update.failures,
            nextAttemptAt: update.nextAttemptAt,
            lastErrorCode: update.reason.code,
            lastErrorMessage: update.reason.message,
            lastErrorDetail: update.reason.detail ?? null,
          },
        });
        break;
      case 'park':
        await tx.appRecipient.update({ where, data: { consecutiveFailures: update.failures } });
        await park(tx, update, update.reason);
        break;
    }
  }
}

// The recipients' standing, read and written in the caller's transaction.
@Injectable()
export class RecipientStore {
  standings(tx: Tx, keys: AppRecipientKey[]): Promise<Map<string, RecipientStanding>> {
    return standingsOf(tx, keys);
  }

  apply(tx: Tx, updates: RecipientUpdate[]): Promise<void> {
    return applyRecipientUpdates(tx, updates);
  }
}
