import type { Prisma } from '@splitstream/persistence';

type Tx = Prisma.TransactionClient;

export const KeysendStatus = {
  Pending: 'pending', // recorded, amount in flight, request not sent: safe to send (or cancel)
  Sending: 'sending', // the request may have gone out
  Succeeded: 'succeeded',
  Failed: 'failed', // certainly not paid; amount back to owed
  Unknown: 'unknown', // may have been paid; stays in flight until an operator resolves it
  Cancelled: 'cancelled', // never sent; amount back to owed
} as const;

// Money movements of a keysend's outcome, shared by the payout runner and operators' resolutions.

// Paid: in flight becomes paid.
export async function moveToPaid(tx: Tx, balanceId: bigint, msat: bigint): Promise<void> {
  await tx.$executeRaw`UPDATE balance SET in_flight_msat = in_flight_msat - ${msat}, paid_msat = paid_msat + ${msat}, updated_at = now() WHERE id = ${balanceId}`;
}

// Recorded but never sent: cancelled, the amounts back to owed. `payoutId` limits it to one run.
export async function cancelPending(tx: Tx, reason: string, payoutId?: bigint): Promise<number> {
  const pending = await tx.keysend.findMany({
    where: { status: KeysendStatus.Pending, ...(payoutId !== undefined && { payoutId }) },
    select: { id: true },
  });
  await returnToOwed(tx, pending.map((k) => k.id), KeysendStatus.Cancelled, null, reason);
  return pending.length;
}

// Certainly not paid: the amount goes back to owed and the listening it covered is free for the next keysend.
export async function returnToOwed(tx: Tx, keysendIds: bigint[], status: string, code: number | null, message: string): Promise<void> {
  if (keysendIds.length === 0) return;
  const ids = keysendIds.map(String);
  await tx.$executeRaw`
    WITH returned AS (
      SELECT balance_id, SUM(amount_sats)::bigint * 1000 AS msat FROM keysend WHERE id = ANY(${ids}::bigint[]) GROUP BY balance_id
    )
    UPDATE balance b SET owed_msat = b.owed_msat + r.msat, in_flight_msat = b.in_flight_msat - r.msat, updated_at = now()
    FROM returned r WHERE b.id = r.balance_id`;
  await tx.$executeRaw`UPDATE allocation SET keysend_id = NULL WHERE keysend_id = ANY(${ids}::bigint[])`;
  await tx.keysend.updateMany({
    where: { id: { in: keysendIds } },
    data: { status, errorCode: code, errorMessage: message, finishedAt: new Date() },
  });
}
