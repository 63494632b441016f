import { Inject, Injectable, Optional } from '@nestjs/common';
import { KeysendStatus, release, settle } from '@splitstream/ledger';
import { paymentHashOf, satsToMsat } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { PrismaService } from '@splitstream/persistence';
import { memoFor, WALLET, type Wallet, type WalletPaymentRecord } from '@splitstream/wallet';

export type Resolution = { outcome: 'succeeded'; preimage?: string } | { outcome: 'failed'; reason?: string };

export type ResolutionResult =
  | { kind: 'resolved'; status: string }
  | { kind: 'not_found' }
  | { kind: 'not_unknown'; status: string }
  | { kind: 'bad_evidence'; message: string };

// How an unknown keysend ends: paid, proved by the wallet's record (or our preimage), or certainly not paid.
export type Settlement = { paid: WalletPaymentRecord } | { notPaid: string };

export interface UnknownKeysend {
  id: bigint;
  status: string;
  balance_id: bigint;
  amount_sats: number;
  reference: string;
  payment_hash: string | null;
  sent_at: Date | null;
  created_at: Date;
}

// Settling keysends whose outcome was unknown. An operator's resolution as paid needs proof: a preimage that
// hashes to the keysend's payment hash where splitstream knew the hash before sending, or else the wallet's own
// record of the payment (found by its reference), whose preimage (if the operator gives one too) must match.
// Reconciliation settles them the same way, from the wallet's records alone.
@Injectable()
export class KeysendResolutions {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(WALLET) private readonly wallet: Wallet,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async resolve(id: bigint, resolution: Resolution, resolvedBy: string): Promise<ResolutionResult> {
    const [keysend] = await this.prisma.$queryRaw<UnknownKeysend[]>`
      SELECT id, status, balance_id, amount_sats, reference, payment_hash, sent_at, created_at FROM keysend WHERE id = ${id}`;
    if (!keysend) return { kind: 'not_found' };
    if (keysend.status !== KeysendStatus.Unknown) return { kind: 'not_unknown', status: keysend.status };
    if (resolution.outcome === 'failed') {
      const reason = `resolved as not paid by ${resolvedBy}${resolution.reason ? `: ${resolution.reason}` : ''}`;
      return this.settleUnknown(keysend, { notPaid: reason }, resolvedBy);
    }
    const evidence = await this.evidence(keysend, resolution.preimage?.toLowerCase());
    if ('message' in evidence) return { kind: 'bad_evidence', message: evidence.message };
    return this.settleUnknown(keysend, { paid: evidence.proof }, resolvedBy);
  }

  // Ends an unknown keysend (if it still is unknown): paid -> settled with the wallet's hash, preimage and fee;
  // not paid -> its amount back to owed (parked, for a parked recipient).
  async settleUnknown(keysend: Pick<UnknownKeysend, 'id' | 'balance_id' | 'amount_sats'>, settlement: Settlement, resolvedBy: string): Promise<ResolutionResult> {
    const { id } = keysend;
    const result = await this.prisma.$transaction(async (tx) => {
      const [locked] = await tx.$queryRaw<{ status: string }[]>`SELECT status FROM keysend WHERE id = ${id} FOR UPDATE`;
      if (locked!.status !== KeysendStatus.Unknown) return { kind: 'not_unknown' as const, status: locked!.status };
      const item = { keysendId: id, balanceId: keysend.balance_id, msat: satsToMsat(keysend.amount_sats) };
      const resolved = { resolvedBy, resolvedAt: new Date(), finishedAt: new Date() };
      if ('notPaid' in settlement) {
        await tx.keysend.update({ where: { id }, data: { ...resolved, status: KeysendStatus.Failed, errorCode: null, errorMessage: settlement.notPaid } });
        await release(tx, [item]);
        return { kind: 'resolved' as const, status: KeysendStatus.Failed };
      }
      const { paymentHash, preimage, feeSats } = settlement.paid;
      await tx.keysend.update({
        where: { id },
        data: { ...resolved, status: KeysendStatus.Succeeded, paymentHash, preimage, feeSats, errorCode: null, errorMessage: null },
      });
      await settle(tx, [item]);
      return { kind: 'resolved' as const, status: KeysendStatus.Succeeded };
    });
    if ('paid' in settlement && result.kind === 'resolved') {
      this.metrics?.keysends.inc({ outcome: 'paid' });
      this.metrics?.paidSats.inc(keysend.amount_sats);
      this.metrics?.feeSats.inc(settlement.paid.feeSats);
    }
    return result;
  }

  private async evidence(keysend: UnknownKeysend, preimage: string | undefined): Promise<{ proof: WalletPaymentRecord } | { message: string }> {
    const since = keysend.sent_at ?? keysend.created_at;
    if (keysend.payment_hash) {
      if (!preimage) return { message: "give the preimage of this keysend's payment hash" };
      if (paymentHashOf(preimage) !== keysend.payment_hash) return { message: "the preimage does not hash to the keysend's payment hash" };
      const lookup = (await this.wallet.findPayments([{ reference: keysend.reference, paymentHash: keysend.payment_hash }], since).catch(() => undefined))?.get(keysend.reference);
      const feeSats = lookup?.state === 'settled' ? lookup.record.feeSats : 0;
      return { proof: { amountSats: keysend.amount_sats, feeSats, paymentHash: keysend.payment_hash, preimage } };
    }
    const lookup = (await this.wallet.findPayments([{ reference: keysend.reference, paymentHash: null }], since)).get(keysend.reference);
    const record = lookup?.state === 'settled' ? lookup.record : undefined;
    if (!record) return { message: `the wallet has no record of a payment with memo "${memoFor(keysend.reference)}"; it cannot be resolved as paid` };
    if (preimage && paymentHashOf(preimage) !== record.paymentHash) return { message: "the preimage does not hash to the payment hash in the wallet's record" };
    return { proof: record };
  }
}
