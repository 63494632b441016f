import { Processor } from '@nestjs/bullmq';
import { RESOLVE_EVENTS, ValueResolution } from '@splitstream/feeds';
import { APPLY_EVENTS, ApplyBatcher } from '@splitstream/ledger';
import { JobQueue, type JobData, JobProcessor } from '@splitstream/queue';

// Many jobs at once, so the batcher can apply their events together (one transaction for many requests). Events
// sent with their value block are applied at once; those sent by reference are handed to RESOLVE_EVENTS, so applying
// never waits on a feed (a slow or dead feed never holds up the others).
@Processor(APPLY_EVENTS.queue, { concurrency: 100 })
export class LedgerProcessor extends JobProcessor<JobData<typeof APPLY_EVENTS>> {
  protected readonly contract = APPLY_EVENTS;

  constructor(
    private readonly batcher: ApplyBatcher,
    private readonly resolution: ValueResolution,
    private readonly jobs: JobQueue,
  ) {
    super();
  }

  protected async handle(data: JobData<typeof APPLY_EVENTS>): Promise<number> {
    const ids = data.eventIds.map(BigInt);
    const applied = await this.batcher.apply(ids);
    if (await this.resolution.anyWaiting(ids)) await this.jobs.enqueue(RESOLVE_EVENTS, { eventIds: data.eventIds });
    return applied;
  }
}

// Blocks of events sent by reference are found a few jobs at once (each reads at most FEED_CONCURRENCY sources at
// a time), then those events are applied.
@Processor(RESOLVE_EVENTS.queue, { concurrency: 4 })
export class EventValuesProcessor extends JobProcessor<JobData<typeof RESOLVE_EVENTS>> {
  protected readonly contract = RESOLVE_EVENTS;

  constructor(
    private readonly batcher: ApplyBatcher,
    private readonly resolution: ValueResolution,
  ) {
    super();
  }

  protected async handle(data: JobData<typeof RESOLVE_EVENTS>): Promise<number> {
    const found = await this.resolution.prepare(data.eventIds.map(BigInt));
    return found.length ? this.batcher.apply(found) : 0;
  }
}
