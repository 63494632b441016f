import { Injectable } from '@nestjs/common';
import { AccumulationService } from './accumulation.service.js';

// Most of applying a batch of events is the transaction's fixed cost (round trips, locks), not the events: so the
// worker takes many apply jobs at once and applies their events together, in one transaction, while the previous
// transaction runs. Each job's promise settles with that transaction: a job is acknowledged only once its events
// are committed, with the ids of its own that it applied; when the transaction fails every job in it fails and is
// retried (applying stays idempotent).
export const MAX_EVENTS_PER_TRANSACTION = 2_000;

interface Waiting {
  ids: bigint[];
  resolve: (applied: bigint[]) => void;
  reject: (error: unknown) => void;
}

@Injectable()
export class ApplyBatcher {
  private waiting: Waiting[] = [];
  private flushing = false;

  constructor(private readonly accumulation: AccumulationService) {}

  apply(ids: bigint[]): Promise<bigint[]> {
    return new Promise<bigint[]>((resolve, reject) => {
      this.waiting.push({ ids, resolve, reject });
      if (!this.flushing) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.waiting.length === 0) return;
    this.flushing = true;
    const batch: Waiting[] = [];
    let events = 0;
    while (this.waiting.length && (batch.length === 0 || events + this.waiting[0]!.ids.length <= MAX_EVENTS_PER_TRANSACTION)) {
      const next = this.waiting.shift()!;
      batch.push(next);
      events += next.ids.length;
    }
    try {
      const applied = await this.accumulation.applyEvents([...new Set(batch.flatMap((w) => w.ids))]);
      for (const w of batch) w.resolve(w.ids.filter((id) => applied.has(id)));
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.flushing = false;
      if (this.waiting.length) setImmediate(() => void this.flush());
    }
  }
}
