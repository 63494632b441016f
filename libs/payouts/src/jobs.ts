import { defineJob } from '@splitstream/queue';

// Looking unknown keysends up in the wallet's records: idempotent (each keysend is settled once, under lock);
// one job per tick across workers.
export const RECONCILE = defineJob<{ tick: string }>({
  queue: 'reconciliation',
  name: 'reconcile-unknown',
  options: (data) => ({ attempts: 1, jobId: `reconcile-${data.tick}`, removeOnComplete: 100, removeOnFail: 1_000 }),
});

// A payout run is never retried by BullMQ: the next run picks up what one left. One job per payout row.
export const RUN_PAYOUT = defineJob<{ payoutId: string }>({
  queue: 'payouts',
  name: 'run-payout',
  options: (data) => ({ attempts: 1, jobId: `payout-${data.payoutId}`, removeOnComplete: 1_000, removeOnFail: 10_000 }),
});
