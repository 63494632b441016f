import { Processor } from '@nestjs/bullmq';
import { RESOLVE_EVENTS, ValueResolution } from '@splitstream/feeds';
import { APPLY_EVENTS, ApplyBatcher } from '@splitstream/ledger';
import { JobQueue, type JobData, JobProcessor } from '@splitstream/queue';

// Many jobs at once, so the batcher can apply their events together (one transaction for many requests). Events
// sent with their value block are applied at once; those sent by reference are handed to RESOLVE_EVENTS, so applying
// never waits on a feed (a slow or dead feed never holds up the others). Only a job with events left unapplied
// asks which of them wait for their block.
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
    const applied = new Set(await this.batcher.apply(ids));
    const left = ids.filter((id) => !applied.has(id));
    if (left.length > 0 && (await this.resolution.anyWaiting(left))) await this.jobs.enqueue(RESOLVE_EVENTS, { eventIds: left.map(String) });
    return applied.size;
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
    return found.length ? (await this.batcher.apply(found)).length : 0;
  }
}
