import { Processor } from '@nestjs/bullmq';
import { PayoutRunner, RUN_PAYOUT } from '@splitstream/payouts';
import { type JobData, JobProcessor } from '@splitstream/queue';

@Processor(RUN_PAYOUT.queue)
export class PayoutsProcessor extends JobProcessor<JobData<typeof RUN_PAYOUT>> {
  protected readonly contract = RUN_PAYOUT;

  constructor(private readonly runner: PayoutRunner) {
    super();
  }

  protected handle(data: JobData<typeof RUN_PAYOUT>): Promise<void> {
    return this.runner.run(BigInt(data.payoutId));
  }
}
