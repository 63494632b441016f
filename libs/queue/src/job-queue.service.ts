import { Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import type { JobContract } from './queue.contracts.js';

const ENQUEUE_TIMEOUT_MS = 2_000;

// Redis did not take a job in time: the caller answers or retries; nothing waits on Redis without bound.
export class QueueUnavailableError extends Error {}

// Enqueues typed jobs onto the registered queues (built by QueueModule.forJobs).
export class JobQueue {
  private readonly logger = new Logger(JobQueue.name);
  private lastError = '';

  constructor(private readonly queues: Map<string, Queue>) {
    // While Redis is down the connection retries every couple of seconds: say so once, not on every retry.
    for (const queue of this.queues.values()) {
      queue.on('error', (error) => {
        if (error.message === this.lastError) return;
        this.lastError = error.message;
        this.logger.warn(`Redis: ${error.message}`);
      });
    }
  }

  // Bounded: while Redis is down BullMQ would wait for it for ever, and a request must answer.
  async enqueue<TData>(contract: JobContract<TData>, data: TData): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueueUnavailableError(`${contract.name} could not be queued within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.add(contract, data), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  // The job queued (or the one already queued under the same job id), for a caller that waits for its result.
  async add<TData>(contract: JobContract<TData>, data: TData): Promise<Job<TData>> {
    return (await this.queue(contract.queue).add(contract.name, data, contract.options(data))) as Job<TData>;
  }

  queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`queue ${name} is not registered`);
    return queue;
  }

  names(): string[] {
    return [...this.queues.keys()];
  }
}
