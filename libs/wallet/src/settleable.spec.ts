import { getEventListeners } from 'node:events';
import { settleable } from './settleable.js';

describe('settleable', () => {
  it('leaves no listener on a long-lived signal however many waits end (no MaxListenersExceededWarning)', async () => {
    const run = new AbortController();
    for (let i = 0; i < 50; i++) {
      const wait = settleable(10_000, run.signal);
      wait.settle();
      await wait.done;
    }
    await Promise.all(Array.from({ length: 20 }, () => settleable(1, run.signal).done));
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });

  it('ends at once when the signal aborts, and when it was aborted before', async () => {
    const run = new AbortController();
    const wait = settleable(60_000, run.signal).done;
    run.abort();
    await expect(wait).resolves.toBeUndefined();
    await expect(settleable(60_000, run.signal).done).resolves.toBeUndefined();
  });
});
