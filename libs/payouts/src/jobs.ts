import { defineJob } from '@splitstream/queue';

// A payout run is never retried by BullMQ: the next run picks up what one left. One job per payout row.
export const RUN_PAYOUT = defineJob<{ payoutId: string }>({
  queue: 'payouts',
  name: 'run-payout',
  options: (data) => ({ attempts: 1, jobId: `payout-${data.payoutId}`, removeOnComplete: 1_000, removeOnFail: 10_000 }),
});
