// Calls to Lightning-address domains, pure: a circuit breaker per domain and lanes that call every domain at once,
// each at most `concurrency` calls at a time. The store of the breakers' states is the caller's.

export interface BreakerSettings {
  failures: number; // in a row, to open the breaker
  openSeconds: number; // how long it stays open
}

export interface BreakerState {
  consecutiveFailures: number;
  openUntil: Date | null;
}

export interface DomainFailure {
  code: string;
  message: string;
  detail: string;
}

export const CLOSED: BreakerState = { consecutiveFailures: 0, openUntil: null };

// open: no call goes to the domain before openUntil. half_open: it was open and its time has passed: one call
// (a probe) decides, a failure opening it again at once.
export type BreakerPhase = 'closed' | 'open' | 'half_open';

export function breakerPhase(state: BreakerState, settings: BreakerSettings, now: Date): BreakerPhase {
  if (state.openUntil && state.openUntil > now) return 'open';
  return state.consecutiveFailures >= settings.failures ? 'half_open' : 'closed';
}

// What a call reported: the domain answered (whatever it said), or it did not (no connection, no answer in time).
export type CallVerdict = { answered: true } | { answered: false; failure: DomainFailure };

// Where breakers' states are kept, shared by every pass and worker. `failed` counts one failure against the stored
// state in one atomic step (failures recorded at once are each counted) and returns the new state: the breaker
// opens for its time once failures in a row reach the set number. `answered` closes it (a no-op when closed).
export interface BreakerStore {
  failed(domain: string, failure: DomainFailure, probe: boolean): Promise<BreakerState>;
  answered(domain: string): Promise<void>;
}

// One domain's breaker for one pass over its addresses: admits calls while closed, one probe at a time while
// half open (the others wait for its verdict), none while open; every verdict is recorded in the store.
export class DomainGate {
  private probe: Promise<void> | undefined;
  // Verdicts in the order their calls ended: a failure recorded before an answer must not undo it when its record
  // comes back later.
  private verdicts = 0;
  private lastAnswer = 0;

  constructor(
    readonly domain: string,
    private state: BreakerState,
    private readonly settings: BreakerSettings,
    private readonly store: BreakerStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get current(): BreakerState {
    return this.state;
  }

  // Runs `call` if the breaker admits it (undefined when it is open), and records its verdict.
  async through<T extends CallVerdict>(call: () => Promise<T>): Promise<T | undefined> {
    while (this.probe) await this.probe;
    const phase = breakerPhase(this.state, this.settings, this.now());
    if (phase === 'open') return undefined;
    let probed = () => {};
    if (phase === 'half_open') this.probe = new Promise<void>((resolve) => (probed = resolve));
    try {
      const verdict = await call();
      await this.record(verdict, phase === 'half_open');
      return verdict;
    } finally {
      this.probe = undefined;
      probed();
    }
  }

  // An answer is always recorded: failures of other passes may be stored since this gate loaded its state.
  private async record(verdict: CallVerdict, probe: boolean): Promise<void> {
    const order = ++this.verdicts;
    if (verdict.answered) {
      this.lastAnswer = order;
      this.state = CLOSED;
      await this.store.answered(this.domain);
      return;
    }
    const stored = await this.store.failed(this.domain, verdict.failure, probe);
    // Records may come back out of order: the gate keeps the furthest state since its last answer.
    if (order > this.lastAnswer && stored.consecutiveFailures >= this.state.consecutiveFailures) this.state = stored;
  }
}

// Every item through its domain's lane: domains in parallel with each other, at most `concurrency` items of one
// domain at a time, so a slow domain holds only its own items. Once `stop()` says so no item starts (the pass's
// time budget): returns how many never started. A failing item stops its own worker only; the first error is
// thrown once every lane has ended (nothing is left calling a domain behind the caller's back).
export async function inDomainLanes<T>(
  items: T[],
  domainOf: (item: T) => string,
  concurrency: number,
  work: (item: T, domain: string) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<number> {
  const lanes = new Map<string, T[]>();
  for (const item of items) {
    const domain = domainOf(item);
    const lane = lanes.get(domain);
    if (lane) lane.push(item);
    else lanes.set(domain, [item]);
  }
  const ended = await Promise.allSettled(
    [...lanes].flatMap(([domain, queue]) =>
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        while (queue.length > 0 && !stop()) await work(queue.shift()!, domain);
      }),
    ),
  );
  const failed = ended.find((e): e is PromiseRejectedResult => e.status === 'rejected');
  if (failed) throw failed.reason;
  return [...lanes.values()].reduce((left, queue) => left + queue.length, 0);
}
