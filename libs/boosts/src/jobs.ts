import { defineJob } from '@splitstream/queue';

// Paying a boost (BoostPayer, libs/payouts): split it into its balances once, then pay what they owe, at once and
// apart from the scheduled runs. Idempotent (the split is applied once, a payment is never re-sent blindly), so it
// is retried with backoff while any share is still owed (a recipient backing off, an address being resolved).
// The worker's sweep asks again (with its tick, once: the next tick asks again) for boosts whose job was lost or
// gave up while money was owed to recipients that are due.
export const PAY_BOOST = defineJob<{ boostId: string /* boost row id, bigint as text */; tick?: string }>({
  queue: 'boosts',
  name: 'pay-boost',
  options: (data) => ({
    jobId: data.tick === undefined ? `boost-${data.boostId}` : `boost-${data.boostId}-${data.tick}`,
    attempts: data.tick === undefined ? 12 : 1,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: 1_000,
    removeOnFail: 10_000,
  }),
});
