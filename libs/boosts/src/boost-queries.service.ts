import { Injectable } from '@nestjs/common';
import { ofTenant, recipientView, valueBlockView } from '@splitstream/ledger';
import { Prisma, PrismaService, pageOf } from '@splitstream/persistence';
import type { BoostRequest } from './boost.schema.js';

// Where a boost stands: awaiting its block (sent by reference, not yet found), paying (some share still owed, in flight or parked), paid (every
// share sent, or joined to its recipient's stream balance), or set aside (its stored block cannot be split).
export const BOOST_STATUSES = ['awaiting', 'paying', 'paid', 'set_aside'] as const;
export type BoostStatus = (typeof BOOST_STATUSES)[number];

// Which boosts a list shows: one app's (tenant) or every app's (null), newest first.
export interface BoostFilter {
  tenant: string | null;
  feedGuid?: string;
  itemGuid?: string;
  recipient?: string; // an address paid by the boost
  since?: Date;
  until?: Date;
  limit: number;
  before?: bigint;
}

interface BoostRow {
  id: bigint;
  app_id: string;
  boost_id: string;
  payload: BoostRequest;
  amount_msat: bigint;
  boost_uuid: string;
  received_at: Date;
  applied_at: Date | null;
  apply_error: string | null;
  resolved_value: unknown;
  value_source: unknown;
  resolve_after: Date | null;
  resolve_error: string | null;
  unsettled_msat: bigint | null; // owed + in flight + parked over its balances
}

interface ShareRow {
  balance_id: bigint;
  address: string;
  custom_key: string;
  custom_value: string;
  name: string;
  remote_feed_guid: string;
  remote_item_guid: string;
  accrued_msat: bigint;
  boost_joined_msat: bigint;
  owed_msat: bigint;
  in_flight_msat: bigint;
  parked_msat: bigint;
  paid_msat: bigint;
  payments: { id: string; status: string; amountSats: number; method: string; errorCode: string | null; errorMessage: string | null }[];
}

const statusOf = (r: BoostRow): BoostStatus =>
  r.apply_error !== null ? 'set_aside' : r.applied_at === null ? 'awaiting' : (r.unsettled_msat ?? 0n) > 0n ? 'paying' : 'paid';

const BOOST_COLUMNS = Prisma.sql`bo.id, bo.app_id, bo.boost_id, bo.payload, bo.amount_msat, bo.boost_uuid::text AS boost_uuid, bo.received_at,
  bo.applied_at, bo.apply_error, bo.resolved_value, bo.value_source, bo.resolve_after, bo.resolve_error,
  (SELECT SUM(b.owed_msat + b.in_flight_msat + b.parked_msat) FROM balance b WHERE b.boost_id = bo.id)::bigint AS unsettled_msat`;

// A boost in a list: what it was, what it paid for, where it stands (GET `href` for each share).
const boostSummary = (r: BoostRow) => ({
  id: r.boost_id,
  app: r.app_id,
  href: `/v1/boosts/${encodeURIComponent(r.boost_id)}?app=${encodeURIComponent(r.app_id)}`,
  feedGuid: r.payload.feedGuid,
  itemGuid: r.payload.itemGuid,
  amountMsat: String(r.amount_msat),
  message: r.payload.message,
  senderName: r.payload.senderName ?? null,
  position: r.payload.position,
  boostUuid: r.boost_uuid,
  status: statusOf(r),
  setAsideReason: r.apply_error,
  receivedAt: r.received_at,
  appliedAt: r.applied_at,
});

export type BoostSummary = ReturnType<typeof boostSummary>;
export type BoostView = BoostSummary & {
  replyAddress: string | null;
  listenerId: string | null;
  valueBlock: ReturnType<typeof valueBlockView>;
  shares: ReturnType<typeof shareView>[];
};

// One recipient's share: what it was, what of it was sent (its payments) and what joined its stream balance.
const shareView = (s: ShareRow) => ({
  recipient: recipientView({ address: s.address, customKey: s.custom_key, customValue: s.custom_value, name: s.name }),
  remoteFeedGuid: s.remote_feed_guid || null,
  remoteItemGuid: s.remote_item_guid || null,
  amountMsat: String(s.accrued_msat + s.boost_joined_msat),
  // Too small to send alone (a share below what its route can send, or the sub-sat rest of one): joined the
  // recipient's balance for the episode and paid with its stream money.
  joinedBalanceMsat: String(s.boost_joined_msat),
  paidMsat: String(s.paid_msat),
  inFlightMsat: String(s.in_flight_msat),
  owedMsat: String(s.owed_msat),
  parkedMsat: String(s.parked_msat),
  payments: s.payments,
});

@Injectable()
export class BoostQueries {
  constructor(private readonly prisma: PrismaService) {}

  // Newest first (by database id); `nextBefore` is the cursor of the next page (null on the last).
  async boosts(filter: BoostFilter) {
    const conditions = [Prisma.sql`true ${ofTenant(filter.tenant, 'bo.app_id')}`];
    if (filter.feedGuid !== undefined) conditions.push(Prisma.sql`bo.payload->>'feedGuid' = ${filter.feedGuid}`);
    if (filter.itemGuid !== undefined) conditions.push(Prisma.sql`bo.payload->>'itemGuid' = ${filter.itemGuid}`);
    if (filter.recipient !== undefined) {
      conditions.push(
        Prisma.sql`EXISTS (SELECT 1 FROM balance b JOIN recipient r ON r.id = b.recipient_id WHERE b.boost_id = bo.id AND r.address = ${filter.recipient})`,
      );
    }
    if (filter.since !== undefined) conditions.push(Prisma.sql`bo.received_at >= ${filter.since}`);
    if (filter.until !== undefined) conditions.push(Prisma.sql`bo.received_at < ${filter.until}`);
    if (filter.before !== undefined) conditions.push(Prisma.sql`bo.id < ${filter.before}`);
    const rows = await this.prisma.$queryRaw<BoostRow[]>`
      SELECT ${BOOST_COLUMNS} FROM boost bo WHERE ${Prisma.join(conditions, ' AND ')}
      ORDER BY ${filter.tenant === null ? Prisma.sql`bo.id DESC` : Prisma.sql`bo.app_id DESC, bo.id DESC`} LIMIT ${filter.limit + 1}`;
    const { rows: page, nextBefore } = pageOf(rows, filter.limit);
    return { boosts: page.map(boostSummary), nextBefore };
  }

  // One app's boost by its id, with each recipient's share and payments; null when the app has none of that id.
  async boost(appId: string, boostId: string): Promise<BoostView | null> {
    const [row] = await this.prisma.$queryRaw<BoostRow[]>`SELECT ${BOOST_COLUMNS} FROM boost bo WHERE bo.app_id = ${appId} AND bo.boost_id = ${boostId}`;
    if (!row) return null;
    const shares = await this.prisma.$queryRaw<ShareRow[]>`
      SELECT b.id AS balance_id, r.address, r.custom_key, r.custom_value, b.name, b.remote_feed_guid, b.remote_item_guid, b.accrued_msat,
             b.boost_joined_msat, b.owed_msat, b.in_flight_msat, b.parked_msat, b.paid_msat,
             COALESCE((SELECT json_agg(json_build_object('id', p.id::text, 'status', p.status, 'amountSats', p.amount_sats, 'method', p.method,
                                                         'errorCode', p.error_code, 'errorMessage', p.error_message) ORDER BY p.id)
                       FROM payment p WHERE p.id IN (SELECT payment_id FROM payment_part WHERE balance_id = b.id)), '[]') AS payments
      FROM balance b JOIN recipient r ON r.id = b.recipient_id
      WHERE b.boost_id = ${row.id} ORDER BY b.id`;
    return {
      ...boostSummary(row),
      replyAddress: row.payload.replyAddress ?? null,
      listenerId: row.payload.listenerId ?? null,
      valueBlock: valueBlockView({
        payload: row.payload,
        valueSource: row.value_source,
        resolvedValue: row.resolved_value,
        resolveAfter: row.resolve_after,
        resolveError: row.resolve_error,
      }),
      shares: shares.map(shareView),
    };
  }

  // Boosts sent by reference whose block is still to find and may be looked for now (their job lost, or Redis was
  // down), received more than `olderThanSeconds` ago: apps in turn, at most `perApp` of each (boost_unapplied index).
  async awaitingValue(olderThanSeconds: number, perApp: number, limit: number): Promise<bigint[]> {
    const rows = await this.prisma.$queryRaw<{ id: bigint }[]>`
      SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY app_id ORDER BY id) AS turn FROM boost
        WHERE applied_at IS NULL AND apply_error IS NULL AND received_at < now() - make_interval(secs => ${olderThanSeconds})
          AND (resolve_after IS NULL OR resolve_after <= now())
      ) waiting WHERE turn <= ${perApp} ORDER BY turn, id LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }
}
