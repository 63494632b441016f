import { Processor } from '@nestjs/bullmq';
import { ValueResolution } from '@splitstream/feeds';
import { APPLY_EVENTS, ApplyBatcher } from '@splitstream/ledger';
import { type JobData, JobProcessor } from '@splitstream/queue';

// Many jobs at once, so the batcher can apply their events together (one transaction for many requests). Events
// sent with their value block are applied at once; those sent by reference are applied as soon as their block is
// found (libs/feeds), so a slow or dead feed never holds up the others.
@Processor(APPLY_EVENTS.queue, { concurrency: 100 })
export class LedgerProcessor extends JobProcessor<JobData<typeof APPLY_EVENTS>> {
  protected readonly contract = APPLY_EVENTS;

  constructor(
    private readonly batcher: ApplyBatcher,
    private readonly resolution: ValueResolution,
  ) {
    super();
  }

  protected async handle(data: JobData<typeof APPLY_EVENTS>): Promise<number> {
    const ids = data.eventIds.map(BigInt);
    const [applied, resolved] = await Promise.all([
      this.batcher.apply(ids),
      this.resolution.prepare(ids).then((found) => (found.length ? this.batcher.apply(found) : 0)),
    ]);
    return applied + resolved;
  }
}
