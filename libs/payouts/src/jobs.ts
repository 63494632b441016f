import { PAY_BOOSTS } from '@splitstream/boosts';
import { RESOLVE_BOOST, RESOLVE_EVENTS } from '@splitstream/feeds';
import { APPLY_EVENTS } from '@splitstream/ledger';
import { defineJob } from '@splitstream/queue';

// Looking unknown payments up in the wallet's records, in the worker (the api holds no wallet): idempotent (each
// payment is settled once, under a session lock; a job that finds another reconciliation running waits for it).
// Scheduled ones: one job per tick across workers, every app's payments (tenant null). Requested from the api:
// one job per request and scope, scoped to the caller's app (or every app for an admin key), optionally to some
// payments (ids as strings: JSON); retried while another reconciliation holds the lock past the wait.
export interface ReconcileJob {
  tick?: string;
  request?: string;
  tenant: string | null;
  paymentIds?: string[];
}

export const RECONCILE = defineJob<ReconcileJob>({
  queue: 'reconciliation',
  name: 'reconcile-unknown',
  options: (data) =>
    data.request !== undefined
      ? {
          attempts: 3,
          backoff: { type: 'exponential', delay: 2_000 },
          jobId: `reconcile-request-${data.request}`,
          // Requests for the same scope while one is queued or running join it: a key sending many cannot queue
          // many reconciliations ahead of everyone else's (the scheduled one included).
          deduplication: { id: `reconcile-${data.tenant ?? '*'}-${data.paymentIds?.join(',') ?? '*'}` },
          removeOnComplete: 100,
          removeOnFail: 1_000,
        }
      : { attempts: 1, jobId: `reconcile-${data.tick}`, removeOnComplete: 100, removeOnFail: 1_000 },
});

// A boost run (BoostPayer): its payout row's trigger. The one-active-run rule leaves such runs out.
export const BOOST_TRIGGER = 'boost';
// What started a run: the schedule, an operator's or app's request, or due boosts.
export const PAYOUT_TRIGGERS = ['schedule', 'manual', BOOST_TRIGGER] as const;

// A payout run is never retried by BullMQ: the next run picks up what one left. One job per payout row.
export const RUN_PAYOUT = defineJob<{ payoutId: string }>({
  queue: 'payouts',
  name: 'run-payout',
  options: (data) => ({ attempts: 1, jobId: `payout-${data.payoutId}`, removeOnComplete: 1_000, removeOnFail: 10_000 }),
});

// Lightning-address resolution (AddressResolution): scheduled every LNADDRESS_RESOLVE_INTERVAL_SECONDS (one job per
// tick across workers), and asked for by a payout run that finds new addresses. One at a time: a job asked for
// while one is queued or running joins it.
export const RESOLVE_ADDRESSES = defineJob<{ tick?: string }>({
  queue: 'lnaddress',
  name: 'resolve-addresses',
  options: (data) => ({
    attempts: 1,
    ...(data.tick !== undefined && { jobId: `resolve-addresses-${data.tick}` }),
    deduplication: { id: 'resolve-addresses' },
    removeOnComplete: 100,
    removeOnFail: 1_000,
  }),
});

// Every job of the service: the api and the worker both register all of them, so each reports every queue's
// splitstream_queue_jobs (the same values from either process), whichever it enqueues or runs.
export const SERVICE_JOBS = [APPLY_EVENTS, RESOLVE_EVENTS, RUN_PAYOUT, RECONCILE, RESOLVE_ADDRESSES, PAY_BOOSTS, RESOLVE_BOOST];
