import { defineJob } from '@splitstream/queue';

// Applying events is idempotent (each event is applied once, in the transaction that records it), so it can be
// retried freely.
// delayMs: events waiting for a feed that backs off are queued again for when it may be tried (libs/feeds).
export const APPLY_EVENTS = defineJob<{ eventIds: string[] /* listening_event ids, bigint as text */; delayMs?: number }>({
  queue: 'ledger',
  name: 'apply-events',
  options: (data) => ({
    attempts: 20,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: 1_000,
    removeOnFail: 10_000,
    ...(data.delayMs !== undefined && { delay: data.delayMs }),
  }),
});
