import { defineJob } from '@splitstream/queue';

// Applying events is idempotent (each event is applied once, in the transaction that records it), so it can be
// retried freely.
export const APPLY_EVENTS = defineJob<{ eventIds: string[] /* listening_event ids, bigint as text */ }>({
  queue: 'ledger',
  name: 'apply-events',
  options: () => ({ attempts: 20, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: 1_000, removeOnFail: 10_000 }),
});
