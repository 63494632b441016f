import { Processor } from '@nestjs/bullmq';
import { AccumulationService, APPLY_EVENTS } from '@splitstream/ledger';
import { type JobData, JobProcessor } from '@splitstream/queue';

@Processor(APPLY_EVENTS.queue)
export class LedgerProcessor extends JobProcessor<JobData<typeof APPLY_EVENTS>> {
  protected readonly contract = APPLY_EVENTS;

  constructor(private readonly accumulation: AccumulationService) {
    super();
  }

  protected handle(data: JobData<typeof APPLY_EVENTS>): Promise<number> {
    return this.accumulation.applyEvents(data.eventIds.map(BigInt));
  }
}
