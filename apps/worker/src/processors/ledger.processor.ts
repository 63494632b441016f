import { Processor } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { QuietWorkerHost } from './quiet-worker-host.js';
import { AccumulationService } from '@splitstream/ledger';
import { type ApplyEventsJob, JobName, QueueName } from '@splitstream/queue';

@Processor(QueueName.Ledger)
export class LedgerProcessor extends QuietWorkerHost {
  constructor(private readonly accumulation: AccumulationService) {
    super();
  }

  async process(job: Job<ApplyEventsJob['data']>): Promise<number> {
    switch (job.name as JobName) {
      case JobName.ApplyEvents:
        return this.accumulation.applyEvents(job.data.eventIds.map(BigInt));
      default:
        throw new Error(`queue ${QueueName.Ledger} has no handler for job ${job.name}`);
    }
  }
}
