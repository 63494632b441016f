import { Processor } from '@nestjs/bullmq';
import { APPLY_EVENTS, ApplyBatcher } from '@splitstream/ledger';
import { type JobData, JobProcessor } from '@splitstream/queue';

// Many jobs at once, so the batcher can apply their events together (one transaction for many requests).
@Processor(APPLY_EVENTS.queue, { concurrency: 100 })
export class LedgerProcessor extends JobProcessor<JobData<typeof APPLY_EVENTS>> {
  protected readonly contract = APPLY_EVENTS;

  constructor(private readonly batcher: ApplyBatcher) {
    super();
  }

  protected handle(data: JobData<typeof APPLY_EVENTS>): Promise<number> {
    return this.batcher.apply(data.eventIds.map(BigInt));
  }
}
