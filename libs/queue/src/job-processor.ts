import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import type { JobContract } from './queue.contracts.js';

// A processor for one job contract: its queue carries only that job, so the payload is typed by the contract
// (no switch, no cast). A job of another name is refused for good (never retried).
export abstract class JobProcessor<TData> extends WorkerHost {
  private readonly logger = new Logger(this.constructor.name);
  private lastError = '';

  protected abstract readonly contract: JobContract<TData>;
  protected abstract handle(data: TData): Promise<unknown>;

  async process(job: Job<TData>): Promise<unknown> {
    if (job.name !== this.contract.name) throw new UnrecoverableError(`queue ${this.contract.queue} has no handler for job ${job.name}`);
    return this.handle(job.data);
  }

  // BullMQ workers print every Redis reconnection error to the console unless someone listens: log it once per
  // distinct message instead, while the connection retries by itself.
  @OnWorkerEvent('error')
  onError(error: Error): void {
    if (error.message === this.lastError) return;
    this.lastError = error.message;
    this.logger.warn(`Redis: ${error.message}`);
  }
}
