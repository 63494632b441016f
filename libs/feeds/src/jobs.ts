import { defineJob } from '@splitstream/queue';

// Finding a boost's value block when it was sent by reference (BoostValues): in the worker, never in the request,
// on a queue of its own, so a slow feed never holds up paying. One job per boost and attempt (`after`: when its
// feed may be read again).
export const RESOLVE_BOOST = defineJob<{ boostId: string /* boost row id, bigint as text */; after?: string; delayMs?: number }>({
  queue: 'boost-values',
  name: 'resolve-boost',
  options: (data) => ({
    jobId: `boost-value-${data.boostId}-${data.after ?? 'first'}`,
    attempts: 3,
    backoff: { type: 'exponential', delay: 2_000 },
    ...(data.delayMs !== undefined && { delay: data.delayMs }),
    removeOnComplete: 1_000,
    removeOnFail: 10_000,
  }),
});

// Finding the blocks of events sent by reference (ValueResolution.prepare), on a queue of its own, a few at once:
// applying events never waits on a feed, so one app's slow or dead feeds never hold up another app's events.
// Asked for by an apply job that met such events, and again for when a failing feed may be read (delayMs).
export const RESOLVE_EVENTS = defineJob<{ eventIds: string[] /* listening_event ids, bigint as text */; delayMs?: number }>({
  queue: 'event-values',
  name: 'resolve-events',
  options: (data) => ({
    attempts: 5,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: 1_000,
    removeOnFail: 10_000,
    ...(data.delayMs !== undefined && { delay: data.delayMs }),
  }),
});
