import { Injectable } from '@nestjs/common';
import { PaymentStatus, PayoutStatus, ofTenant, PaymentMethod, recipientView } from '@splitstream/ledger';
import { satsToMsat } from '@splitstream/money';
import { Prisma, PrismaService, pageOf } from '@splitstream/persistence';
import { BOOST_TRIGGER } from './jobs.js';

// What a keysend list shows; `tenant` null: every app's keysends (admin keys). `parked` means failed keysends
// of recipients parked now for the keysend's app (that money waits for an operator); `paid` is `succeeded`.
export const PAYMENT_LIST_STATUSES = [...Object.values(PaymentStatus), 'paid', 'parked'] as const;
export type PaymentListStatus = (typeof PAYMENT_LIST_STATUSES)[number];
export interface PaymentFilter {
  tenant: string | null;
  status?: PaymentListStatus;
  recipientId?: bigint;
  payoutId?: bigint;
  from?: Date;
  to?: Date;
  before?: bigint;
  limit: number;
}
const tenantWhere = (tenant: string | null): Prisma.PaymentWhereInput => (tenant === null ? {} : { balance: { appId: tenant } });
// An app's payments within one run, by the run's (payout_id, app_id) index (a run holds thousands of every app's).
const runPaymentsOf = (tenant: string): Prisma.PaymentWhereInput => ({ appId: tenant });

interface EpisodeKey {
  feedGuid: string;
  itemGuid: string;
  remoteFeedGuid: string;
  remoteItemGuid: string;
}
const episodeView = (b: EpisodeKey) => ({
  feedGuid: b.feedGuid,
  itemGuid: b.itemGuid,
  remoteFeedGuid: b.remoteFeedGuid || null,
  remoteItemGuid: b.remoteItemGuid || null,
});

const paymentView = (k: {
  id: bigint;
  payoutId: bigint;
  reference: string;
  method: string;
  destination: string;
  invoice: string | null;
  amountSats: bigint;
  status: string;
  attempt: number;
  errorCode: string | null;
  errorMessage: string | null;
  feeSats: bigint | null;
  paymentHash: string | null;
  simulated: boolean;
  createdAt: Date;
  sentAt: Date | null;
  finishedAt: Date | null;
  resolvedBy: string | null;
  resolvedAt: Date | null;
  checkedAt: Date | null;
  checkResult: string | null;
  verdicts: { outcome: string; basis: string; decidedBy: string; reason: string; evidence: Prisma.JsonValue; createdAt: Date }[];
  recipient: { address: string; customKey: string; customValue: string };
  balance: EpisodeKey & { appId: string; appRecipient: { name: string } };
  parts: { msat: bigint; balance: EpisodeKey }[];
}) => ({
  id: String(k.id),
  payoutId: String(k.payoutId),
  reference: k.reference,
  // Whose money it is: the recipient as that app names it.
  app: k.balance.appId,
  recipient: recipientView({ ...k.recipient, name: k.balance.appRecipient.name }),
  // Its episode; for an invoice that paid several episodes of one address, the first of them.
  episode: episodeView(k.balance),
  // What it paid each episode, to the msat (one part, or one per episode of a combined invoice).
  parts: k.parts.map((p) => ({ ...episodeView(p.balance), amountMsat: String(p.msat) })),
  method: k.method,
  // The node a keysend went to (for a Lightning Address, the node its domain named); null for invoice payments.
  destination: k.method === PaymentMethod.Keysend ? k.destination : null,
  invoice: k.invoice,
  // JSON numbers: a payment is at most MAX_PAYMENT_SATS (and never above 2^53), its fee less.
  amountSats: Number(k.amountSats),
  status: k.status,
  attempts: k.attempt,
  lastErrorCode: k.errorCode,
  lastErrorMessage: k.errorMessage,
  feeSats: k.feeSats === null ? null : Number(k.feeSats),
  paymentHash: k.paymentHash,
  // Paid by a development simulator (WALLET_BACKEND alby-sim or nwc-sim): no real sats moved.
  simulated: k.simulated,
  createdAt: k.createdAt,
  sentAt: k.sentAt,
  finishedAt: k.finishedAt,
  resolvedBy: k.resolvedBy,
  resolvedAt: k.resolvedAt,
  // How an unknown outcome was settled, oldest first: by whom (reconciliation, or an API key and its app), when, why,
  // and on what evidence (an override's is the last wallet check it overrode).
  verdicts: k.verdicts.map((v) => ({ outcome: v.outcome, basis: v.basis, decidedBy: v.decidedBy, reason: v.reason, evidence: v.evidence, at: v.createdAt })),
  // What the wallet said the last time this payment was looked up there (null: never looked up).
  lastCheck: k.checkedAt ? { at: k.checkedAt, walletSaid: k.checkResult } : null,
});

export type PaymentView = ReturnType<typeof paymentView>;
const paymentInclude = {
  recipient: true,
  balance: { include: { appRecipient: true } },
  verdicts: { orderBy: { id: 'asc' } },
  parts: { include: { balance: true }, orderBy: { balanceId: 'asc' } },
} as const satisfies Prisma.PaymentInclude;

// Boost runs pay only the boosts of the moment: an app lists those that paid one of its own (another app's boost
// runs would tell it when that app boosted, and fill its list).
const notOthersBoostRun = (tenant: string): Prisma.PayoutWhereInput => ({
  NOT: { trigger: BOOST_TRIGGER, payments: { none: runPaymentsOf(tenant) } },
});

// A run that had nothing due for the tenant: it ended without one payment of the tenant's. A run creates every
// payment due before it sends any, so one that failed or was interrupted with other apps' payments had nothing
// due for this one either. A failed or interrupted run without any payment is never empty (it may have stopped
// before it looked; its note says what went wrong), nor is one still queued or running.
const emptyRunWhere = (tenant: string | null): Prisma.PayoutWhereInput => ({
  payments: { none: tenant === null ? {} : runPaymentsOf(tenant) },
  OR: [
    { status: { in: [PayoutStatus.Completed, PayoutStatus.Partial, PayoutStatus.Skipped] } },
    ...(tenant === null ? [] : [{ status: { in: [PayoutStatus.Failed, PayoutStatus.Interrupted] }, payments: { some: {} } }]),
  ],
});

interface PayoutRow {
  id: bigint;
  trigger: string;
  status: string;
  note: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

// Runs are shared, and an app sees them all: one that had nothing due for the app shows, to its key, as skipped
// with a neutral note, ended when it started. Its real status, note and end are other apps' payments' (a wallet's
// refusal, when they were paid). A run skipped for real keeps its note (why no run happened, no app's detail).
const NOTHING_DUE_NOTE = 'nothing due for this app';
const payoutView = (p: PayoutRow, emptyForApp: boolean) =>
  emptyForApp && p.status !== PayoutStatus.Skipped
    ? {
        id: String(p.id),
        trigger: p.trigger,
        status: PayoutStatus.Skipped,
        note: NOTHING_DUE_NOTE,
        createdAt: p.createdAt,
        startedAt: null,
        finishedAt: p.startedAt ?? p.finishedAt,
      }
    : { id: String(p.id), trigger: p.trigger, status: p.status, note: p.note, createdAt: p.createdAt, startedAt: p.startedAt, finishedAt: p.finishedAt };

@Injectable()
export class PayoutQueries {
  constructor(private readonly prisma: PrismaService) {}

  // Runs are shared by every app; a tenant's totals count its own keysends only. `empty` (see emptyRunWhere)
  // keeps only the runs that had nothing due for the tenant (true) or only the others (false).
  async list(tenant: string | null, limit: number, before?: bigint, empty?: boolean) {
    const { rows: payouts, nextBefore } = pageOf(
      await this.prisma.payout.findMany({
        where: {
          AND: [
            ...(before !== undefined ? [{ id: { lt: before } }] : []),
            ...(empty !== undefined ? [empty ? emptyRunWhere(tenant) : { NOT: emptyRunWhere(tenant) }] : []),
            ...(tenant !== null ? [notOthersBoostRun(tenant)] : []),
          ],
        },
        orderBy: { id: 'desc' },
        take: limit + 1,
      }),
      limit,
    );
    const ids = payouts.map((p) => p.id);
    const [totals, empties] = await Promise.all([this.totals(tenant, ids), this.emptyForApp(tenant, ids)]);
    return {
      payouts: payouts.map((p) => ({ ...payoutView(p, empties.has(p.id)), totals: totals.get(p.id) ?? emptyTotals() })),
      nextBefore,
    };
  }

  async get(tenant: string | null, id: bigint) {
    const payout = await this.prisma.payout.findFirst({
      where: { id, ...(tenant !== null && notOthersBoostRun(tenant)) },
      include: { payments: { where: tenantWhere(tenant), include: paymentInclude, orderBy: { id: 'asc' } } },
    });
    if (!payout) return null;
    const [totals, empties] = await Promise.all([this.totals(tenant, [id]), this.emptyForApp(tenant, [id])]);
    return { ...payoutView(payout, empties.has(id)), totals: totals.get(id) ?? emptyTotals(), keysends: payout.payments.map(paymentView) };
  }

  async keysend(tenant: string | null, id: bigint) {
    const payment = await this.prisma.payment.findFirst({ where: { id, ...tenantWhere(tenant) }, include: paymentInclude });
    return payment ? paymentView(payment) : null;
  }

  // Newest first; `nextBefore` is the cursor of the next page (null on the last).
  async keysends(filter: PaymentFilter) {
    const status: Prisma.PaymentWhereInput =
      filter.status === 'paid'
        ? { status: PaymentStatus.Succeeded }
        : filter.status === 'parked'
          ? { status: PaymentStatus.Failed, balance: { appRecipient: { parked: true } } }
          : filter.status
            ? { status: filter.status }
            : {};
    const found = await this.prisma.payment.findMany({
      where: {
        // AND: the tenant's condition and `parked`'s are both on the balance; neither may replace the other.
        AND: [tenantWhere(filter.tenant), status],
        ...(filter.recipientId !== undefined && { recipientId: filter.recipientId }),
        ...(filter.payoutId !== undefined && { payoutId: filter.payoutId }),
        ...((filter.from || filter.to) && { createdAt: { ...(filter.from && { gte: filter.from }), ...(filter.to && { lt: filter.to }) } }),
        ...(filter.before !== undefined && { id: { lt: filter.before } }),
      },
      include: paymentInclude,
      orderBy: { id: 'desc' },
      take: filter.limit + 1,
    });
    const { rows, nextBefore } = pageOf(found, filter.limit);
    return { keysends: rows.map(paymentView), nextBefore };
  }

  async keysendsOfEvent(eventDbId: bigint) {
    const keysends = await this.prisma.payment.findMany({
      where: { allocations: { some: { eventId: eventDbId } } },
      include: paymentInclude,
      orderBy: { id: 'asc' },
    });
    return keysends.map(paymentView);
  }

  // Msat paid per hour over the last `hours` hours, oldest first, every hour present (0 when nothing was paid).
  async paidPerHour(tenant: string | null, hours: number, now = new Date()) {
    const rows = await this.prisma.$queryRaw<{ hour: Date; sats: bigint; keysends: number }[]>`
      SELECT date_trunc('hour', k.finished_at) AS hour, SUM(k.amount_sats)::bigint AS sats, COUNT(*)::int AS keysends
      FROM payment k
      WHERE k.status = ${PaymentStatus.Succeeded} AND k.finished_at > ${new Date(now.getTime() - hours * 3_600_000)}
        ${ofTenant(tenant, 'k.app_id')}
      GROUP BY 1`;
    const byHour = new Map(rows.map((r) => [r.hour.getTime(), r]));
    const thisHour = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
    return {
      hours: Array.from({ length: hours }, (_, i) => {
        const hour = thisHour - (hours - 1 - i) * 3_600_000;
        const row = byHour.get(hour);
        return { hour: new Date(hour), paidMsat: String(satsToMsat(row?.sats ?? 0n)), keysends: row?.keysends ?? 0 };
      }),
    };
  }

  // Which of these runs an app key sees as nothing due (payoutView); none for an admin key, which sees runs as they are.
  private async emptyForApp(tenant: string | null, ids: bigint[]): Promise<Set<bigint>> {
    if (tenant === null || ids.length === 0) return new Set();
    const empty = await this.prisma.payout.findMany({ where: { id: { in: ids }, ...emptyRunWhere(tenant) }, select: { id: true } });
    return new Set(empty.map((p) => p.id));
  }

  private async totals(tenant: string | null, ids: bigint[]) {
    if (ids.length === 0) return new Map<bigint, ReturnType<typeof emptyTotals>>();
    const rows = await this.prisma.$queryRaw<
      {
        payout_id: bigint;
        keysends: bigint;
        succeeded: bigint;
        failed: bigint;
        cancelled: bigint;
        unknown: bigint;
        pending: bigint;
        sats: bigint;
        paid_sats: bigint;
        fees: bigint;
      }[]
    >`
      SELECT payout_id, COUNT(*) AS keysends,
             COUNT(*) FILTER (WHERE status = ${PaymentStatus.Succeeded}) AS succeeded,
             COUNT(*) FILTER (WHERE status = ${PaymentStatus.Failed}) AS failed,
             COUNT(*) FILTER (WHERE status = ${PaymentStatus.Cancelled}) AS cancelled,
             COUNT(*) FILTER (WHERE status = ${PaymentStatus.Unknown}) AS unknown,
             COUNT(*) FILTER (WHERE status IN (${PaymentStatus.Pending}, ${PaymentStatus.Sending})) AS pending,
             COALESCE(SUM(amount_sats), 0)::bigint AS sats,
             COALESCE(SUM(amount_sats) FILTER (WHERE status = ${PaymentStatus.Succeeded}), 0)::bigint AS paid_sats,
             COALESCE(SUM(fee_sats), 0)::bigint AS fees
      FROM payment k WHERE payout_id = ANY(${ids.map(String)}::bigint[])
        ${tenant === null ? Prisma.empty : Prisma.sql`AND k.app_id = ${tenant}`}
      GROUP BY payout_id`;
    return new Map(
      rows.map((r) => [
        r.payout_id,
        {
          keysends: Number(r.keysends),
          succeeded: Number(r.succeeded),
          failed: Number(r.failed),
          cancelled: Number(r.cancelled),
          unknown: Number(r.unknown),
          pending: Number(r.pending),
          sats: Number(r.sats),
          paidSats: Number(r.paid_sats),
          feeSats: Number(r.fees),
        },
      ]),
    );
  }
}

function emptyTotals() {
  return { keysends: 0, succeeded: 0, failed: 0, cancelled: 0, unknown: 0, pending: 0, sats: 0, paidSats: 0, feeSats: 0 };
}
