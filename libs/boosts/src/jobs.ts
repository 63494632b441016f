import { defineJob } from '@splitstream/queue';

// Paying boosts (BoostPayer, libs/payouts): one job asks for the boost shares owed to due recipients to be paid now,
// apart from the scheduled runs. Any job pays every app's due boosts, app by app in turn, so one job per boost
// stored is enough and jobs asked for while one runs are cheap (nothing left due: done at once). Retried while a
// run of another worker holds the payout lock; the worker's sweep asks again for shares still owed (a recipient
// that was backing off, an address being resolved).
export const PAY_BOOSTS = defineJob<{ tick?: string }>({
  queue: 'boosts',
  name: 'pay-boosts',
  options: (data) => ({
    ...(data.tick !== undefined && { jobId: `pay-boosts-${data.tick}` }),
    attempts: 8,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: 1_000,
    removeOnFail: 10_000,
  }),
});
