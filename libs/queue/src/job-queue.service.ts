import { Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { AppError, ErrorCode } from '@splitstream/errors';
import type { JobContract } from './queue.contracts.js';

const ENQUEUE_TIMEOUT_MS = 2_000;
const RETRY_AFTER_SECONDS = 5;

// Redis did not take a job in time: a request answers 503 (nothing was started) instead of waiting on Redis.
class QueueUnavailableError extends AppError {
  constructor(job: string) {
    super(
      ErrorCode.ServiceUnavailable,
      `${job} could not be queued: Redis did not answer within ${ENQUEUE_TIMEOUT_MS} ms; nothing was started, retry shortly`,
      undefined,
      RETRY_AFTER_SECONDS,
    );
  }
}

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

  async enqueue<TData>(contract: JobContract<TData>, data: TData): Promise<void> {
    await this.add(contract, data);
  }

  // The job queued (or the one already queued under the same job id), for a caller that waits for its result.
  // Bounded: while Redis is down BullMQ would wait for it for ever, and a request must answer.
  async add<TData>(contract: JobContract<TData>, data: TData): Promise<Job<TData>> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueueUnavailableError(contract.name)), ENQUEUE_TIMEOUT_MS);
    });
    try {
      return (await Promise.race([this.queue(contract.queue).add(contract.name, data, contract.options(data)), deadline])) as Job<TData>;
    } finally {
      clearTimeout(timer);
    }
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
