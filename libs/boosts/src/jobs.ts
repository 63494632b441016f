import { defineJob } from '@splitstream/queue';

// Paying boosts (BoostPayer, libs/payouts): one job asks for the boost shares owed to due recipients to be paid now,
// apart from the scheduled runs. Any job pays every app's due boosts, app by app in turn. Retried while a run of
// another worker holds the payout lock; the worker's sweep asks again every 15 s for shares still owed (a
// recipient that was backing off, an address that was being resolved).
export const PAY_BOOSTS = defineJob<{ tick?: string }>({
  queue: 'boosts',
  name: 'pay-boosts',
  options: (data) => ({
    // One job waiting or running at a time: a flood of boosts asks once (the running job's last look, or the
    // sweep, catches what arrives as it ends).
    ...(data.tick !== undefined ? { jobId: `pay-boosts-${data.tick}` } : { deduplication: { id: 'pay-boosts' } }),
    attempts: 8,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: 1_000,
    removeOnFail: 10_000,
  }),
});
