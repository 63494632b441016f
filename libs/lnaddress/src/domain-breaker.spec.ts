import { jest } from '@jest/globals';
import { afterFailure, breakerPhase, type BreakerState, type BreakerStore, CLOSED, type CallVerdict, DomainGate, inDomainLanes } from './domain-breaker.js';

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

// A store of one domain's breaker, as the database keeps it: each failure counted against what is stored.
function memoryStore(stored: BreakerState = CLOSED) {
  const records: [BreakerState, unknown][] = [];
  const store: BreakerStore = {
    failed: async (_domain, failure, next) => {
      stored = next(stored);
      records.push([stored, failure]);
      return stored;
    },
    answered: async () => {
      stored = CLOSED;
      records.push([stored, null]);
    },
  };
  return { store, records, stored: () => stored };
}

describe('domain circuit breaker (pure)', () => {
  it('opens after the set number of failures in a row, for the set time, then lets one probe decide', () => {
    let state: BreakerState = CLOSED;
    for (let i = 1; i < settings.failures; i++) {
      state = afterFailure(state, settings, t0);
      expect([state, breakerPhase(state, settings, t0)]).toEqual([{ consecutiveFailures: i, openUntil: null }, 'closed']);
    }
    state = afterFailure(state, settings, t0);
    expect(state).toEqual({ consecutiveFailures: 3, openUntil: at(60) });
    expect(breakerPhase(state, settings, at(59))).toBe('open');
    expect(breakerPhase(state, settings, at(60))).toBe('half_open');
    // A failed probe opens it again at once, from the probe's time.
    expect(afterFailure(state, settings, at(61))).toEqual({ consecutiveFailures: 4, openUntil: at(121) });
  });

  it('admits no call while open, and closes on an answer (a success forgets the failures)', async () => {
    const { store, records: stored } = memoryStore();
    let now = t0;
    const gate = new DomainGate('slow.test', CLOSED, settings, store, () => now);
    for (let i = 0; i < 3; i++) expect(await gate.through(async () => unanswered)).toEqual(unanswered);
    const calls = jest.fn(async (): Promise<CallVerdict> => ({ answered: true }));
    expect(await gate.through(calls)).toBeUndefined();
    expect(calls).not.toHaveBeenCalled();
    expect(stored.at(-1)).toEqual([{ consecutiveFailures: 3, openUntil: at(60) }, failure]);

    now = at(60);
    expect(await gate.through(calls)).toEqual({ answered: true });
    expect(gate.current).toEqual(CLOSED);
    expect(stored.at(-1)).toEqual([CLOSED, null]);
    expect(stored).toHaveLength(4);
  });

  it('stores nothing for an answer while closed with no failures', async () => {
    const { store, records } = memoryStore();
    const gate = new DomainGate('ok.test', CLOSED, settings, store);
    await gate.through(async () => ({ answered: true }));
    expect(records).toEqual([]);
  });

  it('sends one probe at a time when half open: the others wait for its verdict, and are not called if it fails', async () => {
    const gate = new DomainGate(
      'half.test',
      { consecutiveFailures: 3, openUntil: at(-1) },
      settings,
      memoryStore({ consecutiveFailures: 3, openUntil: at(-1) }).store,
      () => t0,
    );
    const probe = deferred();
    const others = jest.fn(async (): Promise<CallVerdict> => ({ answered: true }));
    const first = gate.through(() => probe.promise);
    const second = gate.through(others);
    const third = gate.through(others);
    await new Promise((resolve) => setImmediate(resolve));
    expect(others).not.toHaveBeenCalled();
    probe.settle(unanswered);
    expect(await Promise.all([first, second, third])).toEqual([unanswered, undefined, undefined]);
    expect(others).not.toHaveBeenCalled();
    expect(gate.current).toEqual({ consecutiveFailures: 4, openUntil: at(60) });
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

  it('counts failures others recorded meanwhile, and keeps the furthest state when records come back out of order', async () => {
    // Another pass recorded 2 failures since this gate loaded its state.
    const { store, stored } = memoryStore({ consecutiveFailures: 2, openUntil: null });
    const returns = [deferred(), deferred()];
    let calls = 0;
    const slowStore: BreakerStore = {
      failed: async (domain, failure, next) => {
        const state = await store.failed(domain, failure, next);
        const held = returns[calls++]!;
        await held.promise;
        return state;
      },
      answered: store.answered,
    };
    const gate = new DomainGate('busy.test', CLOSED, settings, slowStore, () => t0);
    const both = Promise.all([gate.through(async () => unanswered), gate.through(async () => unanswered)]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stored()).toEqual({ consecutiveFailures: 4, openUntil: at(60) });
    returns[1]!.settle(unanswered);
    await new Promise((resolve) => setImmediate(resolve));
    returns[0]!.settle(unanswered);
    await both;
    expect(gate.current).toEqual({ consecutiveFailures: 4, openUntil: at(60) });
    expect(await gate.through(async () => ({ answered: true }))).toBeUndefined();
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
