import { Processor } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { QuietWorkerHost } from './quiet-worker-host.js';
import { PayoutRunner } from '@splitstream/payouts';
import { JobName, QueueName, type RunPayoutJob } from '@splitstream/queue';

@Processor(QueueName.Payouts)
export class PayoutsProcessor extends QuietWorkerHost {
  constructor(private readonly runner: PayoutRunner) {
    super();
  }

  async process(job: Job<RunPayoutJob['data']>): Promise<void> {
    switch (job.name as JobName) {
      case JobName.RunPayout:
        return this.runner.run(BigInt(job.data.payoutId));
      default:
        throw new Error(`queue ${QueueName.Payouts} has no handler for job ${job.name}`);
    }
  }
}
