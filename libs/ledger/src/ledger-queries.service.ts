import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService, pageOf } from '@splitstream/persistence';
import { recipientTypeOf, satsToMsat } from '@splitstream/money';
import { EventStatus, IN_FLIGHT_STATUSES, PaymentStatus } from './statuses.js';

export interface RecipientIdentity {
  address: string;
  customKey?: string;
  customValue?: string;
}

export interface LedgerTotals {
  accruedMsat: bigint;
  owedMsat: bigint;
  inFlightMsat: bigint;
  parkedMsat: bigint;
  paidMsat: bigint;
}

export interface InvariantReport {
  ok: boolean;
  eventsMsat: bigint; // what the applied events are worth
  totals: LedgerTotals;
  problems: string[];
}

// The report as JSON (msat as decimal strings), for the endpoint and the command alike.
export const invariantReportJson = (report: InvariantReport) => ({
  ok: report.ok,
  eventsMsat: String(report.eventsMsat),
  accruedMsat: String(report.totals.accruedMsat),
  owedMsat: String(report.totals.owedMsat),
  inFlightMsat: String(report.totals.inFlightMsat),
  parkedMsat: String(report.totals.parkedMsat),
  paidMsat: String(report.totals.paidMsat),
  problems: report.problems,
});

// A recipient as the API shows it: '' (no custom record, no name) stored, null shown; `type` as value blocks
// name it (node, lnaddress).
export const recipientView = (r: { address: string; customKey: string; customValue: string; name: string }) => ({
  type: recipientTypeOf(r.address),
  address: r.address,
  customKey: r.customKey || null,
  customValue: r.customValue || null,
  name: r.name || null,
});

type Queryable = Pick<PrismaService, '$queryRaw'>;

// Which events a list shows: of one app (tenant) or every app's (null), newest first, `before` a database id.
export interface EventFilter {
  tenant: string | null;
  feedGuid?: string;
  itemGuid?: string;
  status?: EventStatus;
  since?: Date; // received at or after
  until?: Date; // received before
  limit: number;
  before?: bigint;
}

interface EventRow {
  id: bigint;
  app_id: string;
  event_id: string;
  feed_guid: string;
  item_guid: string;
  amount_msat: bigint;
  received_at: Date;
  applied_at: Date | null;
  apply_error: string | null;
}

// The SQL of each status (the indexes of migration event_list serve each).
const EVENT_STATUS_SQL: Record<EventStatus, Prisma.Sql> = {
  [EventStatus.Applied]: Prisma.sql`applied_at IS NOT NULL`,
  [EventStatus.Awaiting]: Prisma.sql`applied_at IS NULL AND apply_error IS NULL`,
  [EventStatus.SetAside]: Prisma.sql`apply_error IS NOT NULL`,
};
const eventStatusOf = (r: EventRow): EventStatus =>
  r.applied_at !== null ? EventStatus.Applied : r.apply_error !== null ? EventStatus.SetAside : EventStatus.Awaiting;

// An event in a list: its app's id for it (GET `href` for its allocations and keysends), what it paid for, where it stands.
const eventSummary = (r: EventRow) => ({
  id: r.event_id,
  app: r.app_id,
  href: `/v1/events/${encodeURIComponent(r.event_id)}?app=${encodeURIComponent(r.app_id)}`,
  feedGuid: r.feed_guid,
  itemGuid: r.item_guid,
  amountMsat: String(r.amount_msat),
  status: eventStatusOf(r),
  setAsideReason: r.apply_error,
  receivedAt: r.received_at,
  appliedAt: r.applied_at,
});

// Which block paid an event: the one it carried, or the one the worker found for its reference (libs/feeds: feed or
// Podcast Index, item or channel, read when, its hash, its remote items), and while none is found yet, when the
// worker tries again and why the last try failed.
export function valueBlockView(event: {
  payload: unknown;
  valueSource: unknown;
  resolvedValue: unknown;
  resolveAfter: Date | null;
  resolveError: string | null;
}) {
  const payload = event.payload as { value?: unknown; feedUrl?: string };
  if (payload.value !== undefined) return { given: 'inline' as const, feedUrl: null, source: null, retryAt: null, lastError: null };
  return {
    given: 'reference' as const,
    feedUrl: payload.feedUrl ?? null,
    source: event.resolvedValue === null ? null : event.valueSource,
    retryAt: event.resolveAfter,
    lastError: event.resolveError,
  };
}

// "Belongs to this app", as a condition to append after WHERE ...: nothing for a null tenant (admin sees all).
// `appId` is the column holding the app (`b.app_id` on a balance aliased b).
export const ofTenant = (tenant: string | null, appId = 'b.app_id'): Prisma.Sql =>
  tenant === null ? Prisma.empty : Prisma.sql`AND ${Prisma.raw(appId)} = ${tenant}`;

// Sum of every balance (of one app's, with a tenant); inside the invariant's snapshot or on its own.
async function sumBalances(db: Queryable, tenant: string | null = null): Promise<LedgerTotals> {
  const [row] = await db.$queryRaw<LedgerTotals[]>`
    SELECT COALESCE(SUM(accrued_msat), 0)::bigint AS "accruedMsat", COALESCE(SUM(owed_msat), 0)::bigint AS "owedMsat",
           COALESCE(SUM(in_flight_msat), 0)::bigint AS "inFlightMsat", COALESCE(SUM(parked_msat), 0)::bigint AS "parkedMsat",
           COALESCE(SUM(paid_msat), 0)::bigint AS "paidMsat"
    FROM balance WHERE true ${ofTenant(tenant, 'app_id')}`;
  return row!;
}

// The payments prove the books: per recipient, paid msat is the sum of its succeeded payments, per balance the sum
// of its parts of them, no payment hash is paid twice, and a payment pays only its own app's balances. Each problem
// names the recipient and the payments.
async function paymentProblems(db: Queryable): Promise<string[]> {
  const recipients = await db.$queryRaw<
    { recipient_id: bigint; balances_paid_msat: bigint | null; payments_sats: bigint | null; payment_ids: bigint[] | null }[]
  >`
    SELECT recipient_id, b.paid AS balances_paid_msat, p.sats AS payments_sats, p.ids AS payment_ids
    FROM (SELECT recipient_id, SUM(paid_msat)::bigint AS paid FROM balance GROUP BY recipient_id) b
    FULL JOIN (SELECT recipient_id, SUM(amount_sats)::bigint AS sats, (array_agg(id ORDER BY id DESC))[1:10] AS ids
               FROM payment WHERE status = ${PaymentStatus.Succeeded} GROUP BY recipient_id) p USING (recipient_id)
    ORDER BY recipient_id`;
  const problems = recipients
    .filter((r) => (r.balances_paid_msat ?? 0n) !== satsToMsat(r.payments_sats ?? 0n))
    .map(
      (r) =>
        `recipient ${r.recipient_id}: balances say ${r.balances_paid_msat ?? 0n} msat paid, its succeeded payments ${satsToMsat(r.payments_sats ?? 0n)} msat (latest payments: ${(r.payment_ids ?? []).join(', ') || 'none'})`,
    );
  const twice = await db.$queryRaw<{ payment_hash: string; ids: bigint[] }[]>`
    SELECT payment_hash, array_agg(id ORDER BY id) AS ids FROM payment
    WHERE status = ${PaymentStatus.Succeeded} AND payment_hash IS NOT NULL GROUP BY payment_hash HAVING COUNT(*) > 1`;
  // Parts (PaymentPart) keep each msat on its episode: a payment's parts add up to it, and a balance's paid msat
  // is its parts of succeeded payments.
  const parts = await db.$queryRaw<{ id: bigint; sats: bigint; msat: bigint | null }[]>`
    SELECT p.id, p.amount_sats AS sats, pp.msat FROM payment p
    LEFT JOIN (SELECT payment_id, SUM(msat)::bigint AS msat FROM payment_part GROUP BY payment_id) pp ON pp.payment_id = p.id
    WHERE pp.msat IS DISTINCT FROM p.amount_sats * 1000 ORDER BY p.id LIMIT 10`;
  const balances = await db.$queryRaw<{ id: bigint; paid: bigint; parts: bigint }[]>`
    SELECT b.id, b.paid_msat AS paid, COALESCE(pp.msat, 0)::bigint AS parts FROM balance b
    LEFT JOIN (SELECT pp.balance_id, SUM(pp.msat) AS msat FROM payment_part pp JOIN payment p ON p.id = pp.payment_id
               WHERE p.status = ${PaymentStatus.Succeeded} GROUP BY pp.balance_id) pp ON pp.balance_id = b.id
    WHERE b.paid_msat <> COALESCE(pp.msat, 0) ORDER BY b.id LIMIT 10`;
  // A payment names its app (what an app's list of runs and its totals read): every balance it pays is that app's.
  const apps = await db.$queryRaw<{ id: bigint; app: string; paying: string }[]>`
    SELECT DISTINCT ON (p.id) p.id, p.app_id AS app, b.app_id AS paying FROM payment p
    JOIN payment_part pp ON pp.payment_id = p.id JOIN balance b ON b.id = pp.balance_id
    WHERE b.app_id <> p.app_id ORDER BY p.id LIMIT 10`;
  return [
    ...problems,
    ...twice.map((t) => `payment hash ${t.payment_hash} is paid twice: payments ${t.ids.join(', ')}`),
    ...apps.map((a) => `payment ${a.id} is recorded for app ${JSON.stringify(a.app)} but pays a balance of app ${JSON.stringify(a.paying)}`),
    ...parts.map((p) => `payment ${p.id}: its parts add up to ${p.msat ?? 0n} msat, the payment is ${satsToMsat(p.sats)} msat`),
    ...balances.map((b) => `balance ${b.id}: ${b.paid} msat paid, its parts of succeeded payments ${b.parts} msat`),
  ];
}

// The running totals (ledger_tally) against the rows they sum, per app: each app whose totals are off, by how much.
const TALLIED = ['events', 'accrued_msat', 'owed_msat', 'in_flight_msat', 'parked_msat', 'paid_msat', 'fees_sats'] as const;
async function tallyProblems(db: Queryable): Promise<string[]> {
  const off = await db.$queryRaw<({ app_id: string } & Record<(typeof TALLIED)[number], bigint>)[]>`
    SELECT app_id, SUM(events)::bigint AS events, SUM(accrued_msat)::bigint AS accrued_msat, SUM(owed_msat)::bigint AS owed_msat,
           SUM(in_flight_msat)::bigint AS in_flight_msat, SUM(parked_msat)::bigint AS parked_msat, SUM(paid_msat)::bigint AS paid_msat,
           SUM(fees_sats)::bigint AS fees_sats
    FROM (SELECT app_id, events, accrued_msat, owed_msat, in_flight_msat, parked_msat, paid_msat, fees_sats FROM ledger_tally
          UNION ALL SELECT app_id, -COUNT(*), 0, 0, 0, 0, 0, 0 FROM listening_event GROUP BY app_id
          UNION ALL SELECT app_id, 0, -SUM(accrued_msat), -SUM(owed_msat), -SUM(in_flight_msat), -SUM(parked_msat), -SUM(paid_msat), 0
                    FROM balance GROUP BY app_id
          UNION ALL SELECT b.app_id, 0, 0, 0, 0, 0, 0, -SUM(p.fee_sats) FROM payment p JOIN balance b ON b.id = p.balance_id
                    WHERE p.status = ${PaymentStatus.Succeeded} GROUP BY b.app_id) d
    GROUP BY app_id
    HAVING SUM(events) <> 0 OR SUM(accrued_msat) <> 0 OR SUM(owed_msat) <> 0 OR SUM(in_flight_msat) <> 0 OR SUM(parked_msat) <> 0
        OR SUM(paid_msat) <> 0 OR SUM(fees_sats) <> 0
    ORDER BY app_id`;
  return off.map(
    (row) =>
      `app ${row.app_id}: the running totals (ledger_tally) are off by ${TALLIED.filter((k) => row[k] !== 0n)
        .map((k) => `${row[k]} ${k}`)
        .join(', ')}`,
  );
}

// The query of GET /v1/events (one row more than the page: see pageOf). One app's list reads that app's rows only, through an index that starts with
// app_id (migration event_list), whatever the filter and however the apps' rows interleave: otherwise the planner
// may walk the primary key backward through every app's newer rows (slow, and a timing oracle on other apps'
// volume). Ordering by (app_id, id) makes it so: `app_id = ANY(...)` is not folded into a constant, so only an
// app_id-first index gives that order without sorting the app's rows; a single app's order is still by id.
export function eventListSql(filter: EventFilter): Prisma.Sql {
  const conditions = filter.tenant === null ? [Prisma.sql`true`] : [Prisma.sql`app_id = ANY(${[filter.tenant]}::text[])`];
  if (filter.feedGuid !== undefined) conditions.push(Prisma.sql`payload->>'feedGuid' = ${filter.feedGuid}`);
  if (filter.itemGuid !== undefined) conditions.push(Prisma.sql`payload->>'itemGuid' = ${filter.itemGuid}`);
  if (filter.status !== undefined) conditions.push(EVENT_STATUS_SQL[filter.status]);
  if (filter.since !== undefined) conditions.push(Prisma.sql`received_at >= ${filter.since}`);
  if (filter.until !== undefined) conditions.push(Prisma.sql`received_at < ${filter.until}`);
  if (filter.before !== undefined) conditions.push(Prisma.sql`id < ${filter.before}`);
  return Prisma.sql`
    SELECT id, app_id, event_id, payload->>'feedGuid' AS feed_guid, payload->>'itemGuid' AS item_guid, amount_msat, received_at, applied_at, apply_error
    FROM listening_event WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY ${filter.tenant === null ? Prisma.sql`id DESC` : Prisma.sql`app_id DESC, id DESC`} LIMIT ${filter.limit + 1}`;
}

// The running totals (migration ledger_tally) of every app, or of one: each database backend keeps its own row per
// app, so a total is the sum of a few rows, read through the primary key (app_id, slot).
export function tallySql(tenant: string | null): Prisma.Sql {
  return Prisma.sql`
    SELECT COALESCE(SUM(accrued_msat), 0)::bigint AS "accruedMsat", COALESCE(SUM(owed_msat), 0)::bigint AS "owedMsat",
           COALESCE(SUM(in_flight_msat), 0)::bigint AS "inFlightMsat", COALESCE(SUM(parked_msat), 0)::bigint AS "parkedMsat",
           COALESCE(SUM(paid_msat), 0)::bigint AS "paidMsat", COALESCE(SUM(events), 0)::bigint AS events, COALESCE(SUM(fees_sats), 0)::bigint AS fees
    FROM ledger_tally WHERE true ${ofTenant(tenant, 'app_id')}`;
}

// What the summary counts row by row: unknown payments (payment_status_id_idx, then each one's balance by its key)
// and the events awaiting or set aside (the partial indexes of migration event_list). Each is few rows.
export function summaryCountsSql(tenant: string | null): Prisma.Sql {
  const paymentsOfTenant =
    tenant === null ? Prisma.empty : Prisma.sql`AND EXISTS (SELECT 1 FROM balance b WHERE b.id = payment.balance_id AND b.app_id = ${tenant})`;
  const eventsOfTenant = ofTenant(tenant, 'app_id');
  return Prisma.sql`
    SELECT (SELECT COUNT(*) FROM payment WHERE status = ${PaymentStatus.Unknown} ${paymentsOfTenant}) AS unknown_count,
           (SELECT COALESCE(SUM(amount_sats), 0) FROM payment WHERE status = ${PaymentStatus.Unknown} ${paymentsOfTenant})::bigint AS unknown_sats,
           (SELECT COUNT(*) FROM listening_event WHERE applied_at IS NULL AND apply_error IS NULL ${eventsOfTenant}) AS pending_events,
           (SELECT COUNT(*) FROM listening_event WHERE apply_error IS NOT NULL ${eventsOfTenant}) AS set_aside_events`;
}

const CHECK_TIMEOUT_MS = 10 * 60_000;

@Injectable()
export class LedgerQueries {
  constructor(private readonly prisma: PrismaService) {}

  // Totals of every app's money (tenant null) or of one app's: the running totals (ledger_tally) for the money, the
  // events accepted and the fees; the few unknown payments and the events awaiting or set aside through their own
  // (partial) indexes. Nothing here reads a row per event or per balance.
  async summary(tenant: string | null = null) {
    const [tally] = await this.prisma.$queryRaw<(LedgerTotals & { events: bigint; fees: bigint })[]>(tallySql(tenant));
    const totals = tally!;
    const [keysends] = await this.prisma.$queryRaw<{ unknown_count: bigint; unknown_sats: bigint; pending_events: bigint; set_aside_events: bigint }[]>(
      summaryCountsSql(tenant),
    );
    return {
      accruedMsat: String(totals.accruedMsat),
      owedMsat: String(totals.owedMsat),
      inFlightMsat: String(totals.inFlightMsat),
      parkedMsat: String(totals.parkedMsat),
      paidMsat: String(totals.paidMsat),
      feesSats: Number(totals.fees),
      unknown: { keysends: Number(keysends!.unknown_count), sats: Number(keysends!.unknown_sats) },
      events: {
        accepted: Number(totals.events),
        awaitingAccumulation: Number(keysends!.pending_events),
        setAside: Number(keysends!.set_aside_events),
      },
    };
  }

  // Newest first (by database id); `nextBefore` is the cursor of the next page (null on the last).
  async events(filter: EventFilter) {
    const { rows, nextBefore } = pageOf(await this.prisma.$queryRaw<EventRow[]>(eventListSql(filter)), filter.limit);
    return { events: rows.map(eventSummary), nextBefore };
  }

  async event(appId: string, eventId: string) {
    const event = await this.prisma.listeningEvent.findUnique({
      where: { appId_eventId: { appId, eventId } },
      include: { allocations: { include: { balance: { include: { recipient: true, appRecipient: true } } }, orderBy: { id: 'asc' } } },
    });
    if (!event) return null;
    return {
      dbId: event.id,
      view: {
        id: event.eventId,
        app: event.appId,
        amountMsat: String(event.amountMsat),
        receivedAt: event.receivedAt,
        appliedAt: event.appliedAt,
        setAsideReason: event.applyError,
        valueBlock: valueBlockView(event),
        allocations: event.allocations.map((a) => ({
          // as the event's app names it
          recipient: recipientView({ ...a.balance.recipient, name: a.balance.appRecipient.name }),
          remoteFeedGuid: a.balance.remoteFeedGuid || null,
          remoteItemGuid: a.balance.remoteItemGuid || null,
          amountMsat: String(a.amountMsat),
          paymentId: a.paymentId === null ? null : String(a.paymentId),
        })),
      },
    };
  }

  // The invariant, checked against the database: per recipient accrued = owed + in flight + parked + paid, and the sum
  // accrued equals what the applied events and boosts are worth, the listening days (listening_day) sum to the applied
  // listening and each is filed under its balance's recipient, the payments prove what was paid, and the running
  // totals (ledger_tally) are the sums of their rows. One snapshot (repeatable read), so it holds mid-flight too.
  async checkInvariant(): Promise<InvariantReport> {
    return this.prisma.$transaction(
      async (tx) => {
        const [worth] = await tx.$queryRaw<{ listened: bigint; boosted: bigint; days: bigint; misfiled_days: bigint }[]>`
          SELECT (SELECT COALESCE(SUM(amount_msat), 0) FROM listening_event WHERE applied_at IS NOT NULL)::bigint AS listened,
                 (SELECT COALESCE(SUM(amount_msat), 0) FROM boost WHERE applied_at IS NOT NULL)::bigint AS boosted,
                 (SELECT COALESCE(SUM(listened_msat), 0) FROM listening_day)::bigint AS days,
                 (SELECT COUNT(*) FROM listening_day l JOIN balance b ON b.id = l.balance_id WHERE l.recipient_id <> b.recipient_id) AS misfiled_days`;
        const eventsMsat = worth!.listened + worth!.boosted;
        const totals = await sumBalances(tx);
        const broken = await tx.$queryRaw<{ id: bigint }[]>`
          SELECT recipient_id AS id FROM balance GROUP BY recipient_id
          HAVING SUM(accrued_msat) <> SUM(owed_msat) + SUM(in_flight_msat) + SUM(parked_msat) + SUM(paid_msat)
             OR MIN(LEAST(owed_msat, in_flight_msat, parked_msat, paid_msat)) < 0`;
        const [keysends] = await tx.$queryRaw<{ in_flight_sats: bigint; paid_sats: bigint }[]>`
          SELECT COALESCE(SUM(amount_sats) FILTER (WHERE status = ANY(${IN_FLIGHT_STATUSES}::text[])), 0)::bigint AS in_flight_sats,
                 COALESCE(SUM(amount_sats) FILTER (WHERE status = ${PaymentStatus.Succeeded}), 0)::bigint AS paid_sats
          FROM payment`;
        const keysendsInFlight = satsToMsat(keysends!.in_flight_sats);
        const keysendsPaid = satsToMsat(keysends!.paid_sats);
        const problems: string[] = [];
        if (eventsMsat !== totals.accruedMsat) problems.push(`events are worth ${eventsMsat} msat but ${totals.accruedMsat} msat accrued`);
        if (worth!.days !== worth!.listened)
          problems.push(`listening events are worth ${worth!.listened} msat but their days (listening_day) ${worth!.days} msat`);
        if (worth!.misfiled_days > 0n) problems.push(`${worth!.misfiled_days} listening days (listening_day) name a recipient other than their balance's`);
        if (totals.accruedMsat !== totals.owedMsat + totals.inFlightMsat + totals.parkedMsat + totals.paidMsat) {
          problems.push('accrued is not owed + in flight + parked + paid');
        }
        if (keysendsInFlight !== totals.inFlightMsat) problems.push(`payments hold ${keysendsInFlight} msat in flight, balances ${totals.inFlightMsat}`);
        if (keysendsPaid !== totals.paidMsat) problems.push(`succeeded payments paid ${keysendsPaid} msat, balances say ${totals.paidMsat} msat`);
        if (broken.length) problems.push(`${broken.length} recipients do not balance: ${broken.map((b) => b.id).join(', ')}`);
        problems.push(...(await paymentProblems(tx)), ...(await tallyProblems(tx)));
        return { ok: problems.length === 0, eventsMsat, totals, problems };
      },
      // It reads every event, balance and payment: seconds at millions of events, past Prisma's 5 s default.
      { isolationLevel: 'RepeatableRead', timeout: CHECK_TIMEOUT_MS },
    );
  }
}
