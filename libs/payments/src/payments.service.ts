import { Injectable } from '@nestjs/common';
import { PaymentStatus } from '@splitstream/ledger';
import { MetricsService } from '@splitstream/observability';
import { PrismaService } from '@splitstream/persistence';
import { type Moved, PaymentMoves } from './payment-moves.js';

const TRANSACTION_TIMEOUT_MS = 120_000;

// What splitstream_keysends_total calls each end of a payment.
const OUTCOME: Partial<Record<PaymentStatus, string>> = {
  [PaymentStatus.Succeeded]: 'paid',
  [PaymentStatus.Failed]: 'not_paid',
  [PaymentStatus.Cancelled]: 'cancelled',
  [PaymentStatus.Unknown]: 'unknown',
};

// The owner of every payment's life: moves happen in `transaction` (PaymentMoves), and what moved is counted once
// it has committed.
@Injectable()
export class Payments {
  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  async transaction<T>(work: (moves: PaymentMoves) => Promise<T>): Promise<T> {
    const { result, moved } = await this.prisma.$transaction(
      async (tx) => {
        const moves = new PaymentMoves(tx);
        return { result: await work(moves), moved: moves.moved };
      },
      { timeout: TRANSACTION_TIMEOUT_MS },
    );
    this.count(moved);
    return result;
  }

  private count(moved: Moved[]): void {
    for (const { to, row, feeSats } of moved) {
      const outcome = OUTCOME[to];
      if (outcome) this.metrics.keysends.inc({ outcome });
      if (to === PaymentStatus.Succeeded) {
        this.metrics.paidSats.inc(Number(row.amount_sats));
        this.metrics.feeSats.inc(feeSats);
      }
    }
  }
}
