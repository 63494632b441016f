import type { AccumulationService } from './accumulation.service.js';
import { ApplyBatcher, MAX_EVENTS_PER_TRANSACTION } from './apply-batcher.js';

// The batcher's coordination only; applying itself is tested against PostgreSQL (scale-out, pipeline, crash).
describe('ApplyBatcher', () => {
  const recording = (fail?: (ids: bigint[]) => boolean) => {
    const calls: bigint[][] = [];
    const accumulation = {
      applyEvents: async (ids: bigint[]) => {
        calls.push(ids);
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (fail?.(ids)) throw new Error('database unavailable');
        // Every id but 4 applied (4 waits for its block, say).
        return new Set(ids.filter((id) => id !== 4n));
      },
    } as unknown as AccumulationService;
    return { calls, batcher: new ApplyBatcher(accumulation) };
  };
  const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => BigInt(from + i));

  it('applies jobs that arrive together in one transaction, each id once, and answers each job with its own applied ids', async () => {
    const { calls, batcher } = recording();
    const results = await Promise.all([batcher.apply(ids(1, 3)), batcher.apply(ids(3, 3)), batcher.apply(ids(10, 1))]);
    expect(calls).toEqual([[1n, 2n, 3n, 4n, 5n, 10n]]);
    expect(results).toEqual([[1n, 2n, 3n], [3n, 5n], [10n]]);
  });

  it('keeps a transaction within the event limit, and batches what arrives while one runs', async () => {
    const { calls, batcher } = recording();
    const jobs = Array.from({ length: 5 }, (_, j) => batcher.apply(ids(j * 1_000, 1_000)));
    await Promise.all(jobs);
    expect(calls.map((c) => c.length)).toEqual([MAX_EVENTS_PER_TRANSACTION, MAX_EVENTS_PER_TRANSACTION, 1_000]);
  });

  it('fails every job of a failed transaction (so each is retried) and goes on with the next', async () => {
    const { calls, batcher } = recording((batch) => batch.includes(1n));
    const first = Promise.allSettled([batcher.apply([1n]), batcher.apply([2n])]);
    expect((await first).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(batcher.apply([3n])).resolves.toEqual([3n]);
    expect(calls).toEqual([[1n, 2n], [3n]]);
  });
});
