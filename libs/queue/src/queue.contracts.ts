import type { JobsOptions } from 'bullmq';

// Every queue and job splitstream has, in one place. Names are strings, not class names: renaming code must
// not orphan jobs already queued.
export enum QueueName {
  Ledger = 'ledger',
  Payouts = 'payouts',
}

export enum JobName {
  ApplyEvents = 'apply-events',
  RunPayout = 'run-payout',
}

export interface ApplyEventsJob {
  queue: QueueName.Ledger;
  name: JobName.ApplyEvents;
  data: { eventIds: string[] }; // listening_event ids (bigint as text)
}

export interface RunPayoutJob {
  queue: QueueName.Payouts;
  name: JobName.RunPayout;
  data: { payoutId: string };
}

export type QueuedJob = ApplyEventsJob | RunPayoutJob;

// Applying events is idempotent (each event is applied once, in the transaction that records it), so it can be
// retried freely. A payout run is never retried by BullMQ: the next run picks up what one left.
export const JOB_OPTIONS: Record<JobName, (job: QueuedJob) => JobsOptions> = {
  [JobName.ApplyEvents]: () => ({
    attempts: 20,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: 1_000,
    removeOnFail: 10_000,
  }),
  [JobName.RunPayout]: (job) => ({
    attempts: 1,
    jobId: `payout-${(job as RunPayoutJob).data.payoutId}`,
    removeOnComplete: 1_000,
    removeOnFail: 10_000,
  }),
};
