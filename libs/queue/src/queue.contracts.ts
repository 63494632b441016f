import type { JobsOptions } from 'bullmq';

// A job's contract: its queue, its name and the options it is queued with, typed by its payload. Each lib
// defines the contracts of the jobs it processes (libs/ledger: apply-events; libs/payouts: run-payout); names
// are strings, not class names, so renaming code never orphans jobs already queued.
export interface JobContract<TData> {
  readonly queue: string;
  readonly name: string;
  options(data: TData): JobsOptions;
}

export const defineJob = <TData>(contract: JobContract<TData>): JobContract<TData> => contract;

export type JobData<C> = C extends JobContract<infer T> ? T : never;
