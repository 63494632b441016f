import { jest } from '@jest/globals';
import { breakerPhase, type BreakerState, type BreakerStore, CLOSED, type CallVerdict, DomainGate, inDomainLanes } from './domain-breaker.js';

const settings = { failures: 3, openSeconds: 60 };
const t0 = new Date('2026-12-02T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const failure = { code: 'lnaddress_unreachable', message: 'no answer', detail: 'timeout' };
const unanswered: CallVerdict = { answered: false, failure };

// A deferred call: the test decides when and how it ends.
function deferred() {
  let settle!: (verdict: CallVerdict) => void;
  const promise = new Promise<CallVerdict>((resolve) => (settle = resolve));
  return { promise, settle };
}

// A store of one domain's breaker, as the database keeps it (AddressStore.breakerFailed): each failure counted
// against what is stored, the breaker opening for openSeconds from the failure's time at `failures` in a row.
function memoryStore(stored: BreakerState = CLOSED, now: () => Date = () => t0) {
  const records: [BreakerState, unknown, boolean?][] = [];
  const store: BreakerStore = {
    failed: async (_domain, failure, probe) => {
      const consecutiveFailures = stored.consecutiveFailures + 1;
      stored = { consecutiveFailures, openUntil: consecutiveFailures >= settings.failures ? new Date(now().getTime() + settings.openSeconds * 1000) : null };
      records.push([stored, failure, probe]);
      return stored;
    },
    answered: async () => {
      stored = CLOSED;
      records.push([stored, null]);
    },
  };
  return { store, records, stored: () => stored };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('domain circuit breaker (pure)', () => {
  it('is closed below the set number of failures, open until its time, then half open (one probe decides)', () => {
    expect(breakerPhase({ consecutiveFailures: 2, openUntil: null }, settings, t0)).toBe('closed');
    expect(breakerPhase({ consecutiveFailures: 3, openUntil: at(60) }, settings, at(59))).toBe('open');
    expect(breakerPhase({ consecutiveFailures: 3, openUntil: at(60) }, settings, at(60))).toBe('half_open');
    expect(breakerPhase({ consecutiveFailures: 3, openUntil: null }, settings, t0)).toBe('half_open');
  });

  it('admits no call while open, and closes on an answer (a success forgets the failures)', async () => {
    let now = t0;
    const { store, records } = memoryStore(CLOSED, () => now);
    const gate = new DomainGate('slow.test', CLOSED, settings, store, () => now);
    for (let i = 0; i < 3; i++) expect(await gate.through(async () => unanswered)).toEqual(unanswered);
    const calls = jest.fn(async (): Promise<CallVerdict> => ({ answered: true }));
    expect(await gate.through(calls)).toBeUndefined();
    expect(calls).not.toHaveBeenCalled();
    expect(records.at(-1)).toEqual([{ consecutiveFailures: 3, openUntil: at(60) }, failure, false]);

    now = at(60);
    expect(await gate.through(calls)).toEqual({ answered: true });
    expect(gate.current).toEqual(CLOSED);
    expect(records.at(-1)).toEqual([CLOSED, null]);
    expect(records).toHaveLength(4);
  });

  it('records every answer, so failures another pass stored since this gate loaded its state are forgotten', async () => {
    const { store, stored } = memoryStore({ consecutiveFailures: 2, openUntil: null });
    const gate = new DomainGate('ok.test', CLOSED, settings, store);
    await gate.through(async () => ({ answered: true }));
    expect(stored()).toEqual(CLOSED);
  });

  it('sends one probe at a time when half open: the others wait for its verdict, and are not called if it fails', async () => {
    const { store, records } = memoryStore({ consecutiveFailures: 3, openUntil: at(-1) });
    const gate = new DomainGate('half.test', { consecutiveFailures: 3, openUntil: at(-1) }, settings, store, () => t0);
    const probe = deferred();
    const others = jest.fn(async (): Promise<CallVerdict> => ({ answered: true }));
    const first = gate.through(() => probe.promise);
    const second = gate.through(others);
    const third = gate.through(others);
    await tick();
    expect(others).not.toHaveBeenCalled();
    probe.settle(unanswered);
    expect(await Promise.all([first, second, third])).toEqual([unanswered, undefined, undefined]);
    expect(others).not.toHaveBeenCalled();
    expect(gate.current).toEqual({ consecutiveFailures: 4, openUntil: at(60) });
    // The store is told it was a probe (a failed probe opens the breaker again: an opening, not one more failure).
    expect(records).toEqual([[{ consecutiveFailures: 4, openUntil: at(60) }, failure, true]]);
  });

  it('lets the waiting calls through, as many as the lane allows, once the probe is answered', async () => {
    const gate = new DomainGate(
      'back.test',
      { consecutiveFailures: 5, openUntil: at(-1) },
      settings,
      memoryStore({ consecutiveFailures: 5, openUntil: at(-1) }).store,
      () => t0,
    );
    const probe = deferred();
    const first = gate.through(() => probe.promise);
    const second = gate.through(async () => ({ answered: true }));
    probe.settle({ answered: true });
    expect(await Promise.all([first, second])).toEqual([{ answered: true }, { answered: true }]);
    expect(gate.current).toEqual(CLOSED);
  });

  // A store whose failure records come back when the test says (the nth record waits for held[n]).
  function heldStore(inner: BreakerStore, held: ReturnType<typeof deferred>[]): BreakerStore {
    let records = 0;
    return {
      failed: async (domain, failure, probe) => {
        const state = await inner.failed(domain, failure, probe);
        await held[records++]!.promise;
        return state;
      },
      answered: inner.answered,
    };
  }

  it('counts failures others recorded meanwhile, and keeps the furthest state when records come back out of order', async () => {
    // Another pass recorded 2 failures since this gate loaded its state.
    const { store, stored } = memoryStore({ consecutiveFailures: 2, openUntil: null });
    const held = [deferred(), deferred()];
    const gate = new DomainGate('busy.test', CLOSED, settings, heldStore(store, held), () => t0);
    const both = Promise.all([gate.through(async () => unanswered), gate.through(async () => unanswered)]);
    await tick();
    expect(stored()).toEqual({ consecutiveFailures: 4, openUntil: at(60) });
    held[1]!.settle(unanswered);
    await tick();
    held[0]!.settle(unanswered);
    await both;
    expect(gate.current).toEqual({ consecutiveFailures: 4, openUntil: at(60) });
    expect(await gate.through(async () => ({ answered: true }))).toBeUndefined();
  });

  it('keeps an answer when the record of a failure that ended before it comes back after it', async () => {
    const { store } = memoryStore({ consecutiveFailures: 2, openUntil: null });
    const held = [deferred()];
    const gate = new DomainGate('flaky.test', CLOSED, settings, heldStore(store, held), () => t0);
    const failing = gate.through(async () => unanswered);
    await tick();
    await gate.through(async () => ({ answered: true }));
    held[0]!.settle(unanswered);
    await failing;
    expect(gate.current).toEqual(CLOSED);
  });
});

describe('inDomainLanes (pure)', () => {
  it('runs every domain at once, each at most `concurrency` items at a time, and every item once', async () => {
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    const order: string[] = [];
    const pending: (() => void)[] = [];
    const items = [...Array.from({ length: 6 }, (_, i) => `s${i}@slow.test`), 'a@fast.test', 'b@fast.test', 'c@other.test'];
    const done = inDomainLanes(
      items,
      (item) => item.split('@')[1]!,
      2,
      (item, domain) =>
        new Promise<void>((resolve) => {
          order.push(item);
          running.set(domain, (running.get(domain) ?? 0) + 1);
          most.set(domain, Math.max(most.get(domain) ?? 0, running.get(domain)!));
          const finish = () => (running.set(domain, running.get(domain)! - 1), resolve());
          // slow.test never finishes on its own: the other domains must not wait for it.
          if (domain === 'slow.test') pending.push(finish);
          else setImmediate(finish);
        }),
    );
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(order.filter((item) => !item.endsWith('slow.test'))).toEqual(['a@fast.test', 'b@fast.test', 'c@other.test']);
    expect(order.filter((item) => item.endsWith('slow.test'))).toEqual(['s0@slow.test', 's1@slow.test']);
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await done;
    expect(order.filter((item) => item.endsWith('slow.test'))).toHaveLength(6);
    expect(Object.fromEntries(most)).toEqual({ 'slow.test': 2, 'fast.test': 2, 'other.test': 1 });
  });

  it('throws the first error only once every lane has ended', async () => {
    const finished: string[] = [];
    const done = inDomainLanes(
      ['x@bad.test', 'y@slow.test'],
      (item) => item.split('@')[1]!,
      1,
      async (item) => {
        if (item.startsWith('x')) throw new Error('database gone');
        await new Promise((resolve) => setTimeout(resolve, 20));
        finished.push(item);
      },
    );
    await expect(done).rejects.toThrow('database gone');
    expect(finished).toEqual(['y@slow.test']);
  });

  it('starts no item once stop() says so, in any lane, and returns how many never started', async () => {
    const started: string[] = [];
    let stopped = false;
    const left = await inDomainLanes(
      ['a1@a.test', 'a2@a.test', 'a3@a.test', 'b1@b.test', 'b2@b.test'],
      (item) => item.split('@')[1]!,
      1,
      async (item) => {
        started.push(item);
        await new Promise((resolve) => setImmediate(resolve));
        stopped = true; // the budget ends while the first items run
      },
      () => stopped,
    );
    expect(started).toEqual(['a1@a.test', 'b1@b.test']);
    expect(left).toBe(3);
  });
});
