import { Injectable } from '@nestjs/common';
import { park } from '@splitstream/ledger';
import type { Reason } from '@splitstream/payments';
import type { Prisma } from '@splitstream/persistence';

type Tx = Prisma.TransactionClient;

// Recipients' standing after payments: failures back a recipient off, then park it; a payment resets it.

export interface RecipientStanding {
  id: bigint;
  consecutiveFailures: number;
}

export type RecipientUpdate =
  | { id: bigint; kind: 'recovered' }
  | { id: bigint; kind: 'backoff'; failures: number; nextAttemptAt: Date; reason: Reason }
  | { id: bigint; kind: 'park'; failures: number; reason: Reason };

// The recipients' failure counts, their rows locked for the update that follows.
async function standingsOf(tx: Tx, recipientIds: bigint[]): Promise<Map<bigint, RecipientStanding>> {
  const rows = await tx.$queryRaw<{ id: bigint; consecutive_failures: number }[]>`
    SELECT id, consecutive_failures FROM recipient WHERE id = ANY(${recipientIds.map(String)}::bigint[]) ORDER BY id FOR UPDATE`;
  return new Map(rows.map((r) => [r.id, { id: r.id, consecutiveFailures: r.consecutive_failures }]));
}

async function applyRecipientUpdates(tx: Tx, updates: RecipientUpdate[]): Promise<void> {
  // Recoveries are most of a healthy run (every paid recipient): one statement for all of them, writing only the
  // recipients that had something to forget.
  const recovered = updates.filter((u) => u.kind === 'recovered').map((u) => u.id);
  if (recovered.length > 0) {
    await tx.recipient.updateMany({
      where: {
        id: { in: recovered },
        OR: [
          { consecutiveFailures: { gt: 0 } },
          { nextAttemptAt: { not: null } },
          { lastErrorCode: { not: null } },
          { lastErrorMessage: { not: null } },
          { lastErrorDetail: { not: null } },
        ],
      },
      data: { consecutiveFailures: 0, nextAttemptAt: null, lastErrorCode: null, lastErrorMessage: null, lastErrorDetail: null },
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
            lastErrorDetail: update.reason.detail ?? null,
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

// The recipients' standing, read and written in the caller's transaction.
@Injectable()
export class RecipientStore {
  standings(tx: Tx, recipientIds: bigint[]): Promise<Map<bigint, RecipientStanding>> {
    return standingsOf(tx, recipientIds);
  }

  apply(tx: Tx, updates: RecipientUpdate[]): Promise<void> {
    return applyRecipientUpdates(tx, updates);
  }
}
