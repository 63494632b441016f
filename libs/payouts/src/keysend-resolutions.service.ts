import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { KeysendStatus, release, settle } from '@splitstream/ledger';
import { satsToMsat } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { PrismaService } from '@splitstream/persistence';
import { memoFor, WALLET, type Wallet, type WalletPaymentRecord } from '@splitstream/wallet';

export type Resolution = { outcome: 'succeeded'; preimage?: string } | { outcome: 'failed'; reason?: string };

export type ResolutionResult =
  | { kind: 'resolved'; status: string }
  | { kind: 'not_found' }
  | { kind: 'not_unknown'; status: string }
  | { kind: 'bad_evidence'; message: string };

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

interface UnknownKeysend {
  id: bigint;
  status: string;
  balance_id: bigint;
  amount_sats: number;
  reference: string;
  payment_hash: string | null;
  sent_at: Date | null;
  created_at: Date;
}

// An operator settles a keysend whose outcome was unknown. As paid it needs proof: a preimage that hashes to
// the keysend's payment hash where splitstream knew the hash before sending, or else the wallet's own record of
// the payment (found by its reference), whose preimage (if the operator gives one too) must match. Failed returns
// its amount to owed.
@Injectable()
export class KeysendResolutions {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(WALLET) private readonly wallet: Wallet,
    private readonly metrics: MetricsService,
  ) {}

  async resolve(id: bigint, resolution: Resolution, resolvedBy: string): Promise<ResolutionResult> {
    const keysend = await this.load(id);
    if (!keysend) return { kind: 'not_found' };
    if (keysend.status !== KeysendStatus.Unknown) return { kind: 'not_unknown', status: keysend.status };
    let proof: WalletPaymentRecord | undefined;
    if (resolution.outcome === 'succeeded') {
      const evidence = await this.evidence(keysend, resolution.preimage?.toLowerCase());
      if (evidence.kind === 'bad_evidence') return evidence;
      proof = evidence.proof;
    }
    const result = await this.prisma.$transaction(async (tx) => {
      const [locked] = await tx.$queryRaw<{ status: string }[]>`SELECT status FROM keysend WHERE id = ${id} FOR UPDATE`;
      if (locked!.status !== KeysendStatus.Unknown) return { kind: 'not_unknown' as const, status: locked!.status };
      const item = { keysendId: id, balanceId: keysend.balance_id, msat: satsToMsat(keysend.amount_sats) };
      const resolved = { resolvedBy, resolvedAt: new Date(), finishedAt: new Date() };
      if (!proof) {
        const reason = `resolved as not paid by ${resolvedBy}${resolution.outcome === 'failed' && resolution.reason ? `: ${resolution.reason}` : ''}`;
        await tx.keysend.update({ where: { id }, data: { ...resolved, status: KeysendStatus.Failed, errorCode: null, errorMessage: reason } });
        await release(tx, [item]);
        return { kind: 'resolved' as const, status: KeysendStatus.Failed };
      }
      await tx.keysend.update({
        where: { id },
        data: {
          ...resolved,
          status: KeysendStatus.Succeeded,
          paymentHash: proof.paymentHash,
          preimage: proof.preimage,
          feeSats: proof.feeSats,
          errorCode: null,
          errorMessage: null,
        },
      });
      await settle(tx, [item]);
      return { kind: 'resolved' as const, status: KeysendStatus.Succeeded };
    });
    if (proof && result.kind === 'resolved') {
      this.metrics.keysends.inc({ outcome: 'paid' });
      this.metrics.paidSats.inc(keysend.amount_sats);
      this.metrics.feeSats.inc(proof.feeSats);
    }
    return result;
  }

  private async load(id: bigint): Promise<UnknownKeysend | undefined> {
    const [keysend] = await this.prisma.$queryRaw<UnknownKeysend[]>`
      SELECT id, status, balance_id, amount_sats, reference, payment_hash, sent_at, created_at FROM keysend WHERE id = ${id}`;
    return keysend;
  }

  private async evidence(
    keysend: UnknownKeysend,
    preimage: string | undefined,
  ): Promise<{ kind: 'proof'; proof: WalletPaymentRecord } | { kind: 'bad_evidence'; message: string }> {
    if (keysend.payment_hash) {
      if (!preimage) return { kind: 'bad_evidence', message: 'give the preimage of this keysend\'s payment hash' };
      if (sha256(preimage) !== keysend.payment_hash) return { kind: 'bad_evidence', message: 'the preimage does not hash to the keysend\'s payment hash' };
      const record = await this.wallet.findPayment(keysend.reference, keysend.sent_at ?? keysend.created_at).catch(() => null);
      return { kind: 'proof', proof: { amountSats: keysend.amount_sats, feeSats: record?.feeSats ?? 0, paymentHash: keysend.payment_hash, preimage } };
    }
    const record = await this.wallet.findPayment(keysend.reference, keysend.sent_at ?? keysend.created_at);
    if (!record) {
      return { kind: 'bad_evidence', message: `the wallet has no record of a payment with memo "${memoFor(keysend.reference)}"; it cannot be resolved as paid` };
    }
    if (preimage && sha256(preimage) !== record.paymentHash) {
      return { kind: 'bad_evidence', message: 'the preimage does not hash to the payment hash in the wallet\'s record' };
    }
    return { kind: 'proof', proof: record };
  }
}
