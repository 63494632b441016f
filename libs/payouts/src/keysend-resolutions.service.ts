import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@splitstream/persistence';
import { KeysendStatus, moveToPaid, returnToOwed } from './keysend-ledger.js';

export type Resolution =
  | { outcome: 'succeeded'; paymentHash?: string; preimage?: string }
  | { outcome: 'failed'; reason?: string };

export type ResolutionResult =
  | { kind: 'resolved'; status: string }
  | { kind: 'not_found' }
  | { kind: 'not_unknown'; status: string }
  | { kind: 'bad_evidence'; message: string };

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

// An operator settles a keysend whose outcome was unknown (after checking the wallet or the receiver):
// succeeded (with the payment hash or preimage as evidence) moves its amount to paid; failed returns it to owed.
@Injectable()
export class KeysendResolutions {
  constructor(private readonly prisma: PrismaService) {}

  async resolve(id: bigint, resolution: Resolution, resolvedBy: string): Promise<ResolutionResult> {
    return this.prisma.$transaction(async (tx) => {
      const [keysend] = await tx.$queryRaw<{ id: bigint; status: string; balance_id: bigint; amount_sats: number }[]>`
        SELECT id, status, balance_id, amount_sats FROM keysend WHERE id = ${id} FOR UPDATE`;
      if (!keysend) return { kind: 'not_found' as const };
      if (keysend.status !== KeysendStatus.Unknown) return { kind: 'not_unknown' as const, status: keysend.status };
      const resolved = { resolvedBy, resolvedAt: new Date() };
      if (resolution.outcome === 'failed') {
        await returnToOwed(tx, [id], KeysendStatus.Failed, null, `resolved as not paid by ${resolvedBy}${resolution.reason ? `: ${resolution.reason}` : ''}`);
        await tx.keysend.update({ where: { id }, data: resolved });
        return { kind: 'resolved' as const, status: KeysendStatus.Failed };
      }
      const fromPreimage = resolution.preimage ? sha256(resolution.preimage) : undefined;
      if (fromPreimage && resolution.paymentHash && fromPreimage !== resolution.paymentHash.toLowerCase()) {
        return { kind: 'bad_evidence' as const, message: 'the preimage does not hash to the payment hash' };
      }
      await tx.keysend.update({
        where: { id },
        data: {
          ...resolved,
          status: KeysendStatus.Succeeded,
          paymentHash: fromPreimage ?? resolution.paymentHash!.toLowerCase(),
          preimage: resolution.preimage?.toLowerCase() ?? null,
          errorMessage: null,
        },
      });
      await moveToPaid(tx, keysend.balance_id, BigInt(keysend.amount_sats) * 1000n);
      return { kind: 'resolved' as const, status: KeysendStatus.Succeeded };
    });
  }
}
