import type pg from 'pg';
import { onConnection } from './sql-pool.service.js';

// What a group's worker made of one caller's item: its value, or the error that caller is answered with.
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface GroupCommitLimits {
  // A group closes at this much weight (intake: events), so one transaction and each answer's wait stay bounded;
  // a single item heavier than that gets a group of its own.
  maxWeight: number;
  // Groups committing at once, each on its own connection (the pool must hold this many).
  maxInFlight: number;
}

// Does a group's work on one connection, outside any transaction: a single statement commits on its own (atomically),
// more take a transaction (transactionOn), committed before the work returns. One outcome per item, in order. What
// it throws fails the whole group (the connection is dropped, with any transaction it holds).
export type GroupWork<I, T> = (client: pg.PoolClient, items: I[]) => Promise<Outcome<T>[]>;

interface Waiting<I, T> {
  item: I;
  weight: number;
  order: string;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

const DEADLOCK = '40P01';

// Group commit: callers that arrive while a transaction is committing wait, and then share the next one, so many
// concurrent writes cost one transaction and one fsync instead of one each. A caller's promise settles only after
// the COMMIT that stores its writes (or with its own error, its writes undone). The next group gathers while others
// commit and starts when none is committing, or as soon as it is full (it gains nothing by waiting; its transaction
// runs beside the others on another connection, so PostgreSQL works on large requests in parallel), up to
// `maxInFlight` at once. A caller waits at most about two transactions.
// When the work throws (the connection lost, a BEGIN or COMMIT failed), every caller of the group gets that error:
// nothing of the group was stored, unless the connection was lost while its commit went through (callers must be
// able to send again safely). Items run in `order` (stable), so concurrent groups take their row locks in one order.
export class GroupCommit<I, T> {
  private waiting: Waiting<I, T>[] = [];
  private waitingWeight = 0;
  private inFlight = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: GroupCommitLimits,
    private readonly work: GroupWork<I, T>,
    // Once per group, after its COMMIT and before its callers are answered, with the values of the items that
    // succeeded. Must not throw (what it does is best effort: the writes are committed).
    private readonly afterCommit: (values: T[]) => Promise<void> = async () => undefined,
  ) {}

  run(item: I, { weight, order }: { weight: number; order: string }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ item, weight, order, resolve, reject });
      this.waitingWeight += weight;
      this.drain();
    });
  }

  private drain(): void {
    const full = () => this.waitingWeight >= this.limits.maxWeight;
    while (this.waiting.length > 0 && (this.inFlight === 0 || (this.inFlight < this.limits.maxInFlight && full()))) {
      const group = this.nextGroup();
      this.inFlight++;
      void this.commit(group).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }

  private nextGroup(): Waiting<I, T>[] {
    let weight = 0;
    let count = 0;
    while (count < this.waiting.length && (count === 0 || weight + this.waiting[count]!.weight <= this.limits.maxWeight)) {
      weight += this.waiting[count]!.weight;
      count++;
    }
    this.waitingWeight -= weight;
    return this.waiting.splice(0, count).sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  }

  private async commit(group: Waiting<I, T>[]): Promise<void> {
    let outcomes: Outcome<T>[];
    try {
      outcomes = await onConnection(this.pool, (client) =>
        this.work(
          client,
          group.map((waiting) => waiting.item),
        ),
      );
    } catch (error) {
      for (const { reject } of group) reject(error);
      return;
    }
    // Answered while the next group gathers and commits: the follow-up is not on the commit path.
    void this.answer(group, outcomes);
  }

  private async answer(group: Waiting<I, T>[], outcomes: Outcome<T>[]): Promise<void> {
    await this.afterCommit(outcomes.flatMap((outcome) => (outcome.ok ? [outcome.value] : [])));
    group.forEach(({ resolve, reject }, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    });
  }
}

// Runs `work` under a savepoint of the group's transaction, so that what it throws undoes only its own writes:
// `restart` rolls back to the savepoint (after a failed statement, which leaves the transaction unusable until
// then). Deadlocked with another process's transaction, it is rolled back and run once more. Throws only when the
// connection itself is gone (then the group fails).
export async function inSavepoint<T>(client: pg.ClientBase, work: (restart: () => Promise<void>) => Promise<T>): Promise<Outcome<T>> {
  const restart = async () => void (await client.query('ROLLBACK TO SAVEPOINT part'));
  await client.query('SAVEPOINT part');
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await work(restart);
      await client.query('RELEASE SAVEPOINT part');
      return { ok: true, value };
    } catch (error) {
      await restart();
      if (attempt === 1 && (error as { code?: unknown }).code === DEADLOCK) continue;
      await client.query('RELEASE SAVEPOINT part');
      return { ok: false, error };
    }
  }
}
