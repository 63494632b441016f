import { Injectable } from '@nestjs/common';
import type { ListeningEvent } from '@splitstream/ingestion';
import { recipientIdentity, splitListening } from '@splitstream/money';
import { Prisma, PrismaService } from '@splitstream/persistence';

interface RecipientRow {
  address: string;
  customKey: string;
  customValue: string;
  name: string;
}

interface BalanceDelta {
  recipient: string; // identity
  feedGuid: string;
  itemGuid: string;
  remoteFeedGuid: string;
  remoteItemGuid: string;
  amountMsat: bigint;
}

const TRANSACTION_TIMEOUT_MS = 60_000;
const balanceKey = (d: Omit<BalanceDelta, 'amountMsat'>) =>
  JSON.stringify([d.recipient, d.feedGuid, d.itemGuid, d.remoteFeedGuid, d.remoteItemGuid]);

// Applies accepted listening events to the ledger: each event's exact split is added to what its recipients are
// owed, per episode, in one transaction per batch. An event is applied once: it is locked, applied and marked in
// that same transaction, so a retried job (or the sweep) can never count it twice.
@Injectable()
export class AccumulationService {
  constructor(private readonly prisma: PrismaService) {}

  async applyEvents(eventIds: bigint[]): Promise<number> {
    if (eventIds.length === 0) return 0;
    return this.prisma.$transaction(
      async (tx) => {
        const events = await tx.$queryRaw<{ id: bigint; payload: ListeningEvent; amount_msat: bigint }[]>`
          SELECT id, payload, amount_msat FROM listening_event
          WHERE id = ANY(${eventIds.map(String)}::bigint[]) AND applied_at IS NULL
          ORDER BY id FOR UPDATE SKIP LOCKED`;
        if (events.length === 0) return 0;

        const recipients = new Map<string, RecipientRow>();
        const deltas = new Map<string, BalanceDelta>();
        const allocations: { eventId: bigint; key: string; amountMsat: bigint }[] = [];
        for (const event of events) {
          const { payload } = event;
          const split = splitListening({
            amountMsat: event.amount_msat,
            position: payload.position,
            seconds: payload.seconds,
            value: payload.value,
          });
          for (const a of split) {
            const identity = recipientIdentity(a.recipient);
            recipients.set(identity, {
              address: a.recipient.address,
              customKey: a.recipient.customKey ?? '',
              customValue: a.recipient.customValue ?? '',
              name: a.recipient.name ?? '',
            });
            const delta = {
              recipient: identity,
              feedGuid: payload.feedGuid,
              itemGuid: payload.itemGuid,
              remoteFeedGuid: a.remoteFeedGuid ?? '',
              remoteItemGuid: a.remoteItemGuid ?? '',
            };
            const key = balanceKey(delta);
            const existing = deltas.get(key);
            if (existing) existing.amountMsat += a.amountMsat;
            else deltas.set(key, { ...delta, amountMsat: a.amountMsat });
            allocations.push({ eventId: event.id, key, amountMsat: a.amountMsat });
          }
        }

        // Sorted, so concurrent batches lock rows in the same order (no deadlocks).
        const recipientRows = [...recipients.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
        const recipientIds = new Map<string, bigint>();
        const upserted = await tx.$queryRaw<{ id: bigint; address: string; custom_key: string; custom_value: string }[]>`
          INSERT INTO recipient (address, custom_key, custom_value, name)
          SELECT * FROM unnest(${recipientRows.map(([, r]) => r.address)}::text[], ${recipientRows.map(([, r]) => r.customKey)}::text[],
                               ${recipientRows.map(([, r]) => r.customValue)}::text[], ${recipientRows.map(([, r]) => r.name)}::text[])
          ON CONFLICT (address, custom_key, custom_value) DO UPDATE SET name = EXCLUDED.name
          RETURNING id, address, custom_key, custom_value`;
        for (const row of upserted) {
          recipientIds.set(
            recipientIdentity({ address: row.address, customKey: row.custom_key || undefined, customValue: row.custom_value || undefined }),
            row.id,
          );
        }

        const deltaRows = [...deltas.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, d]) => d);
        const balances = await tx.$queryRaw<
          { id: bigint; recipient_id: bigint; feed_guid: string; item_guid: string; remote_feed_guid: string; remote_item_guid: string }[]
        >`
          INSERT INTO balance (recipient_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid, accrued_msat, owed_msat)
          SELECT r, f, i, rf, ri, m, m
          FROM unnest(${deltaRows.map((d) => String(recipientIds.get(d.recipient)))}::bigint[], ${deltaRows.map((d) => d.feedGuid)}::text[],
                      ${deltaRows.map((d) => d.itemGuid)}::text[], ${deltaRows.map((d) => d.remoteFeedGuid)}::text[],
                      ${deltaRows.map((d) => d.remoteItemGuid)}::text[], ${deltaRows.map((d) => d.amountMsat.toString())}::bigint[])
            AS d(r, f, i, rf, ri, m)
          ON CONFLICT (recipient_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid) DO UPDATE SET
            accrued_msat = balance.accrued_msat + EXCLUDED.accrued_msat,
            owed_msat = balance.owed_msat + EXCLUDED.owed_msat,
            updated_at = now()
          RETURNING id, recipient_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid`;
        const identityOf = new Map([...recipientIds.entries()].map(([identity, id]) => [id, identity]));
        const balanceIds = new Map(
          balances.map((b) => [
            balanceKey({
              recipient: identityOf.get(b.recipient_id)!,
              feedGuid: b.feed_guid,
              itemGuid: b.item_guid,
              remoteFeedGuid: b.remote_feed_guid,
              remoteItemGuid: b.remote_item_guid,
            }),
            b.id,
          ]),
        );

        await tx.allocation.createMany({
          data: allocations.map((a) => ({ eventId: a.eventId, balanceId: balanceIds.get(a.key)!, amountMsat: a.amountMsat })),
        });
        await tx.$executeRaw`UPDATE listening_event SET applied_at = now() WHERE id = ANY(${events.map((e) => String(e.id))}::bigint[])`;
        return events.length;
      },
      { timeout: TRANSACTION_TIMEOUT_MS, isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted },
    );
  }

  // Events stored but never applied (their job was lost, e.g. Redis was down): the oldest first.
  async unappliedEventIds(olderThanSeconds: number, limit: number): Promise<bigint[]> {
    const rows = await this.prisma.$queryRaw<{ id: bigint }[]>`
      SELECT id FROM listening_event
      WHERE applied_at IS NULL AND received_at < now() - make_interval(secs => ${olderThanSeconds})
      ORDER BY id LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }
}
