import { Processor } from '@nestjs/bullmq';
import { PAY_BOOSTS } from '@splitstream/boosts';
import { PayoutRunner, RUN_PAYOUT } from '@splitstream/payouts';
import { JobQueue, type JobData, JobProcessor } from '@splitstream/queue';

@Processor(RUN_PAYOUT.queue)
export class PayoutsProcessor extends JobProcessor<JobData<typeof RUN_PAYOUT>> {
  protected readonly contract = RUN_PAYOUT;

  constructor(
    private readonly runner: PayoutRunner,
    private readonly jobs: JobQueue,
  ) {
    super();
  }

  // Boosts wait while a scheduled or manual run goes: they are asked for again as soon as it ends.
  protected async handle(data: JobData<typeof RUN_PAYOUT>): Promise<void> {
    await this.runner.run(BigInt(data.payoutId));
    await this.jobs.enqueue(PAY_BOOSTS, {});
  }
}
