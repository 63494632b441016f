import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@splitstream/persistence';
import { JobQueue } from '@splitstream/queue';
import { RUN_PAYOUT } from './jobs.js';
import { PayoutStatus } from '@splitstream/ledger';

// Starting a payout run: a payout row first (its id is the answer), then the job that runs it.
@Injectable()
export class PayoutRequests {
  constructor(
    private readonly prisma: PrismaService,
    private readonly jobs: JobQueue,
  ) {}

  async requestManualRun(): Promise<bigint> {
    const payout = await this.prisma.payout.create({ data: { trigger: 'manual', status: PayoutStatus.Queued } });
    await this.enqueue(payout.id);
    return payout.id;
  }

  // Every worker's timer fires; the unique tick key lets exactly one of them start the run for this tick.
  async requestScheduledRun(now: Date, intervalSeconds: number): Promise<bigint | undefined> {
    const tickKey = `schedule:${Math.floor(now.getTime() / 1000 / intervalSeconds)}`;
    try {
      const payout = await this.prisma.payout.create({ data: { trigger: 'schedule', tickKey, status: PayoutStatus.Queued } });
      await this.enqueue(payout.id);
      return payout.id;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  private enqueue(payoutId: bigint): Promise<void> {
    return this.jobs.enqueue(RUN_PAYOUT, { payoutId: String(payoutId) });
  }
}
