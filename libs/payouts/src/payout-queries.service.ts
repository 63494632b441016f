import { Injectable } from '@nestjs/common';
import { KeysendStatus, recipientView } from '@splitstream/ledger';
import { PrismaService } from '@splitstream/persistence';

const keysendView = (k: {
  id: bigint;
  reference: string;
  amountSats: number;
  status: string;
  attempt: number;
  errorCode: string | null;
  errorMessage: string | null;
  feeSats: number | null;
  paymentHash: string | null;
  createdAt: Date;
  sentAt: Date | null;
  finishedAt: Date | null;
  resolvedBy: string | null;
  resolvedAt: Date | null;
  recipient: { address: string; customKey: string; customValue: string; name: string };
  balance: { feedGuid: string; itemGuid: string; remoteFeedGuid: string; remoteItemGuid: string };
}) => ({
  id: String(k.id),
  reference: k.reference,
  recipient: recipientView(k.recipient),
  episode: {
    feedGuid: k.balance.feedGuid,
    itemGuid: k.balance.itemGuid,
    remoteFeedGuid: k.balance.remoteFeedGuid || null,
    remoteItemGuid: k.balance.remoteItemGuid || null,
  },
  amountSats: k.amountSats,
  status: k.status,
  attempts: k.attempt,
  lastErrorCode: k.errorCode,
  lastErrorMessage: k.errorMessage,
  feeSats: k.feeSats,
  paymentHash: k.paymentHash,
  createdAt: k.createdAt,
  sentAt: k.sentAt,
  finishedAt: k.finishedAt,
  resolvedBy: k.resolvedBy,
  resolvedAt: k.resolvedAt,
});

export type KeysendView = ReturnType<typeof keysendView>;
const keysendInclude = { recipient: true, balance: true } as const;

@Injectable()
export class PayoutQueries {
  constructor(private readonly prisma: PrismaService) {}

  async list(limit: number, before?: bigint) {
    const payouts = await this.prisma.payout.findMany({
      where: before === undefined ? {} : { id: { lt: before } },
      orderBy: { id: 'desc' },
      take: limit,
    });
    const totals = await this.totals(payouts.map((p) => p.id));
    return {
      payouts: payouts.map((p) => ({ ...this.payoutView(p), totals: totals.get(p.id) ?? emptyTotals() })),
      nextBefore: payouts.length === limit ? String(payouts.at(-1)!.id) : null,
    };
  }

  async get(id: bigint) {
    const payout = await this.prisma.payout.findUnique({
      where: { id },
      include: { keysends: { include: keysendInclude, orderBy: { id: 'asc' } } },
    });
    if (!payout) return null;
    const totals = await this.totals([id]);
    return { ...this.payoutView(payout), totals: totals.get(id) ?? emptyTotals(), keysends: payout.keysends.map(keysendView) };
  }

  async keysend(id: bigint) {
    const keysend = await this.prisma.keysend.findUnique({ where: { id }, include: keysendInclude });
    return keysend ? keysendView(keysend) : null;
  }

  async keysendsOfEvent(eventDbId: bigint) {
    const keysends = await this.prisma.keysend.findMany({
      where: { allocations: { some: { eventId: eventDbId } } },
      include: keysendInclude,
      orderBy: { id: 'asc' },
    });
    return keysends.map(keysendView);
  }

  private payoutView(p: { id: bigint; trigger: string; status: string; note: string | null; createdAt: Date; startedAt: Date | null; finishedAt: Date | null }) {
    return { id: String(p.id), trigger: p.trigger, status: p.status, note: p.note, createdAt: p.createdAt, startedAt: p.startedAt, finishedAt: p.finishedAt };
  }

  private async totals(ids: bigint[]) {
    if (ids.length === 0) return new Map<bigint, ReturnType<typeof emptyTotals>>();
    const rows = await this.prisma.$queryRaw<
      { payout_id: bigint; keysends: bigint; succeeded: bigint; failed: bigint; cancelled: bigint; unknown: bigint; pending: bigint; sats: bigint; paid_sats: bigint; fees: bigint }[]
    >`
      SELECT payout_id, COUNT(*) AS keysends,
             COUNT(*) FILTER (WHERE status = ${KeysendStatus.Succeeded}) AS succeeded,
             COUNT(*) FILTER (WHERE status = ${KeysendStatus.Failed}) AS failed,
             COUNT(*) FILTER (WHERE status = ${KeysendStatus.Cancelled}) AS cancelled,
             COUNT(*) FILTER (WHERE status = ${KeysendStatus.Unknown}) AS unknown,
             COUNT(*) FILTER (WHERE status IN (${KeysendStatus.Pending}, ${KeysendStatus.Sending})) AS pending,
             COALESCE(SUM(amount_sats), 0)::bigint AS sats,
             COALESCE(SUM(amount_sats) FILTER (WHERE status = ${KeysendStatus.Succeeded}), 0)::bigint AS paid_sats,
             COALESCE(SUM(fee_sats), 0)::bigint AS fees
      FROM keysend WHERE payout_id = ANY(${ids.map(String)}::bigint[]) GROUP BY payout_id`;
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
