import { Injectable } from '@nestjs/common';
import { PaymentStatus, ofTenant, recipientView, utcDayOf } from '@splitstream/ledger';
import { satsToMsat } from '@splitstream/money';
import { Prisma, PrismaService } from '@splitstream/persistence';

// A creator's statement: what a recipient earned and was paid, per show and episode, with every keysend and every
// boost (its message and the recipient's share). With no
// period it is the ledger itself (accrued = owed + in flight + parked + paid per episode); with `from`/`to`,
// accrued counts listening received in the period and paid counts keysends settled in it.
// A period's bounds are UTC midnights (the API refuses others): listening is kept per balance per UTC day.
export interface StatementPeriod {
  from?: Date;
  to?: Date;
}

interface EpisodeRow {
  feed_guid: string;
  item_guid: string;
  feed_title: string | null;
  item_title: string | null;
  accrued: bigint;
  paid_msat: bigint;
  fees_sats: bigint;
  owed: bigint;
  in_flight: bigint;
  parked: bigint;
}

const MONEY = ['accruedMsat', 'paidMsat', 'feesMsat', 'owedMsat', 'inFlightMsat', 'parkedMsat'] as const;
type Money = Record<(typeof MONEY)[number], bigint>;
const zero = (): Money => ({ accruedMsat: 0n, paidMsat: 0n, feesMsat: 0n, owedMsat: 0n, inFlightMsat: 0n, parkedMsat: 0n });
const add = (into: Money, more: Money) => {
  for (const k of MONEY) into[k] += more[k];
  return into;
};
const moneyJson = (m: Money) => Object.fromEntries(MONEY.map((k) => [k, String(m[k])])) as Record<(typeof MONEY)[number], string>;
// The name a recipient is shown by: the tenant's own, or (admin) the latest any app gave.
const nameOf = (recipientId: Prisma.Sql, tenant: string | null) => Prisma.sql`
  COALESCE((SELECT a.name FROM app_recipient a WHERE a.recipient_id = ${recipientId} ${ofTenant(tenant, 'a.app_id')} AND a.name <> ''
            ORDER BY a.updated_at DESC, a.app_id LIMIT 1), '')`;
const within = (column: Prisma.Sql, period: StatementPeriod) =>
  Prisma.sql`${period.from ? Prisma.sql`AND ${column} >= ${period.from}` : Prisma.empty} ${period.to ? Prisma.sql`AND ${column} < ${period.to}` : Prisma.empty}`;
const withinDays = (period: StatementPeriod) =>
  Prisma.sql`${period.from ? Prisma.sql`AND l.day >= ${utcDayOf(period.from)}::date` : Prisma.empty} ${period.to ? Prisma.sql`AND l.day < ${utcDayOf(period.to)}::date` : Prisma.empty}`;

// A statement's episodes (one row each, per recipient). Without a period, accrued is the balances' own (the ledger,
// one row per balance); within one (whole UTC days), the listening received in it, summed from one range of the
// recipient's days (listening_day: a row per balance and day, however many allocations).
export function statementEpisodesSql(tenant: string | null, recipientId: bigint, period: StatementPeriod): Prisma.Sql {
  const inPeriod = period.from !== undefined || period.to !== undefined;
  // Without a period, a balance's accrued is the whole of it (a boost's share that joined a stream balance is counted
  // there). Within one: the listening of the period's events, and the whole share of the period's boosts (what of
  // it was sent from its boost balance and what joined a stream balance).
  const accrued = inPeriod ? Prisma.sql`COALESCE(SUM(listened.msat), 0) + COALESCE(SUM(boosted.msat), 0)` : Prisma.sql`SUM(b.accrued_msat)`;
  const listened = inPeriod
    ? Prisma.sql`LEFT JOIN (SELECT l.balance_id, SUM(l.listened_msat) AS msat FROM listening_day l
                            WHERE l.recipient_id = ${recipientId} ${withinDays(period)} GROUP BY l.balance_id) listened ON listened.balance_id = b.id
                 LEFT JOIN LATERAL (SELECT b.accrued_msat + b.boost_joined_msat AS msat FROM boost bo
                                    WHERE bo.id = b.boost_id ${within(Prisma.sql`bo.received_at`, period)}) boosted ON true`
    : Prisma.empty;
  return Prisma.sql`
    SELECT b.feed_guid, b.item_guid, MAX(e.feed_title) AS feed_title, MAX(e.item_title) AS item_title,
           (${accrued})::bigint AS accrued, COALESCE(SUM(settled.msat), 0)::bigint AS paid_msat,
           COALESCE(SUM(settled.fees), 0)::bigint AS fees_sats,
           SUM(b.owed_msat)::bigint AS owed, SUM(b.in_flight_msat)::bigint AS in_flight, SUM(b.parked_msat)::bigint AS parked
    FROM balance b
    -- One probe of the episode's key per balance (LIMIT 1 keeps the planner from hashing every episode of the table).
    LEFT JOIN LATERAL (SELECT e.feed_title, e.item_title FROM episode e
                       WHERE e.app_id = b.app_id AND e.feed_guid = b.feed_guid AND e.item_guid = b.item_guid LIMIT 1) e ON true
    ${listened}
    CROSS JOIN LATERAL (SELECT SUM(pp.msat) AS msat, SUM(k.fee_sats) FILTER (WHERE k.balance_id = b.id) AS fees
                        FROM payment_part pp JOIN payment k ON k.id = pp.payment_id
                        WHERE pp.balance_id = b.id AND k.status = ${PaymentStatus.Succeeded} ${within(Prisma.sql`k.finished_at`, period)}) settled
    WHERE b.recipient_id = ${recipientId} ${ofTenant(tenant)}
    GROUP BY b.feed_guid, b.item_guid ORDER BY b.feed_guid, b.item_guid`;
}

@Injectable()
export class StatementsService {
  constructor(private readonly prisma: PrismaService) {}

  // An episode's paid money is its balances' parts of succeeded payments (an invoice for several small balances
  // pays each its part): the payments are listed part by part, each on its episode, a fee on its lead part.
  async statement(tenant: string | null, recipientId: bigint, period: StatementPeriod) {
    const [recipient] = await this.prisma.$queryRaw<{ id: bigint; address: string; customKey: string; customValue: string; name: string }[]>`
      SELECT r.id, r.address, r.custom_key AS "customKey", r.custom_value AS "customValue", ${nameOf(Prisma.sql`r.id`, tenant)} AS name
      FROM recipient r WHERE r.id = ${recipientId}`;
    if (!recipient) return null;
    const episodes = await this.prisma.$queryRaw<EpisodeRow[]>(statementEpisodesSql(tenant, recipientId, period));
    if (episodes.length === 0) return null;
    const keysends = await this.prisma.$queryRaw<
      {
        id: bigint;
        created_at: Date;
        finished_at: Date | null;
        feed_guid: string;
        item_guid: string;
        msat: bigint;
        fee_sats: bigint | null;
        status: string;
        payment_hash: string | null;
        method: string;
      }[]
    >`
      SELECT k.id, k.created_at, k.finished_at, b.feed_guid, b.item_guid, pp.msat, CASE WHEN pp.balance_id = k.balance_id THEN k.fee_sats END AS fee_sats,
             k.status, k.payment_hash, k.method
      FROM payment k JOIN payment_part pp ON pp.payment_id = k.id JOIN balance b ON b.id = pp.balance_id
      WHERE k.recipient_id = ${recipientId} ${ofTenant(tenant)} ${within(Prisma.sql`k.created_at`, period)}
      ORDER BY k.id, pp.balance_id <> k.balance_id, pp.balance_id`;

    // The boosts that paid it, with their messages: its share of each and what of it joined its stream balance.
    const boosts = await this.prisma.$queryRaw<
      {
        boost_id: string;
        app_id: string;
        message: string;
        sender_name: string | null;
        received_at: Date;
        feed_guid: string;
        item_guid: string;
        msat: bigint;
        joined: bigint;
      }[]
    >`
      SELECT bo.boost_id, bo.app_id, bo.payload->>'message' AS message, bo.payload->>'senderName' AS sender_name, bo.received_at, b.feed_guid, b.item_guid,
             b.accrued_msat + b.boost_joined_msat AS msat, b.boost_joined_msat AS joined
      FROM balance b JOIN boost bo ON bo.id = b.boost_id
      WHERE b.recipient_id = ${recipientId} ${ofTenant(tenant)} ${within(Prisma.sql`bo.received_at`, period)}
      ORDER BY bo.id DESC`;

    const feeds = new Map<string, { feedGuid: string; feedTitle: string | null; money: Money }>();
    const total = zero();
    const episodeViews = episodes.map((row) => {
      const money: Money = {
        accruedMsat: row.accrued,
        paidMsat: row.paid_msat,
        feesMsat: satsToMsat(row.fees_sats),
        owedMsat: row.owed,
        inFlightMsat: row.in_flight,
        parkedMsat: row.parked,
      };
      const feed = feeds.get(row.feed_guid) ?? { feedGuid: row.feed_guid, feedTitle: row.feed_title || null, money: zero() };
      feeds.set(row.feed_guid, feed);
      add(feed.money, money);
      add(total, money);
      return { feedGuid: row.feed_guid, itemGuid: row.item_guid, feedTitle: row.feed_title || null, itemTitle: row.item_title || null, ...moneyJson(money) };
    });
    return {
      recipient: { id: String(recipient.id), ...recipientView(recipient) },
      period: { from: period.from ?? null, to: period.to ?? null },
      totals: moneyJson(total),
      feeds: [...feeds.values()].map((f) => ({ feedGuid: f.feedGuid, feedTitle: f.feedTitle, ...moneyJson(f.money) })),
      episodes: episodeViews,
      boosts: boosts.map((x) => ({
        id: x.boost_id,
        app: x.app_id,
        receivedAt: x.received_at,
        feedGuid: x.feed_guid,
        itemGuid: x.item_guid,
        senderName: x.sender_name,
        message: x.message,
        amountMsat: String(x.msat),
        joinedBalanceMsat: String(x.joined),
      })),
      keysends: keysends.map((k) => ({
        id: String(k.id),
        createdAt: k.created_at,
        finishedAt: k.finished_at,
        feedGuid: k.feed_guid,
        itemGuid: k.item_guid,
        amountMsat: String(k.msat),
        feeMsat: k.fee_sats === null ? null : String(satsToMsat(k.fee_sats)),
        status: k.status,
        method: k.method,
        paymentHash: k.payment_hash,
      })),
    };
  }

  // A show's recipients: accrued, paid and what is still owed (in flight, parked) per recipient.
  async feedSummary(tenant: string | null, feedGuid: string) {
    const rows = await this.prisma.$queryRaw<
      {
        id: bigint;
        address: string;
        custom_key: string;
        custom_value: string;
        name: string;
        accrued: bigint;
        owed: bigint;
        in_flight: bigint;
        parked: bigint;
        paid: bigint;
      }[]
    >`
      SELECT r.id, r.address, r.custom_key, r.custom_value, ${nameOf(Prisma.sql`r.id`, tenant)} AS name, SUM(b.accrued_msat)::bigint AS accrued, SUM(b.owed_msat)::bigint AS owed,
             SUM(b.in_flight_msat)::bigint AS in_flight, SUM(b.parked_msat)::bigint AS parked, SUM(b.paid_msat)::bigint AS paid
      FROM balance b JOIN recipient r ON r.id = b.recipient_id
      WHERE b.feed_guid = ${feedGuid} ${ofTenant(tenant)}
      GROUP BY r.id ORDER BY SUM(b.accrued_msat) DESC, r.id`;
    if (rows.length === 0) return null;
    const title = await this.prisma.episode.findFirst({
      where: { feedGuid, feedTitle: { not: '' }, ...(tenant !== null && { appId: tenant }) },
      orderBy: { updatedAt: 'desc' },
    });
    const total = { accrued: 0n, owed: 0n, in_flight: 0n, parked: 0n, paid: 0n };
    for (const r of rows) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r[k];
    const amounts = (r: typeof total) => ({
      accruedMsat: String(r.accrued),
      paidMsat: String(r.paid),
      owedMsat: String(r.owed),
      inFlightMsat: String(r.in_flight),
      parkedMsat: String(r.parked),
    });
    return {
      feedGuid,
      feedTitle: title?.feedTitle ?? null,
      totals: amounts(total),
      recipients: rows.map((r) => ({
        id: String(r.id),
        ...recipientView({ address: r.address, customKey: r.custom_key, customValue: r.custom_value, name: r.name }),
        ...amounts(r),
      })),
    };
  }
}

export type Statement = NonNullable<Awaited<ReturnType<StatementsService['statement']>>>;
