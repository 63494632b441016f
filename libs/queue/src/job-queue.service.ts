import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JOB_OPTIONS, QueueName, type QueuedJob } from './queue.contracts.js';

@Injectable()
export class JobQueue {
  private readonly logger = new Logger(JobQueue.name);
  private readonly queues: Record<QueueName, Queue>;
  private lastError = '';

  constructor(@InjectQueue(QueueName.Ledger) ledger: Queue, @InjectQueue(QueueName.Payouts) payouts: Queue) {
    this.queues = { [QueueName.Ledger]: ledger, [QueueName.Payouts]: payouts };
    // While Redis is down the connection retries every couple of seconds: say so once, not on every retry.
    for (const queue of [ledger, payouts]) {
      queue.on('error', (error) => {
        if (error.message === this.lastError) return;
        this.lastError = error.message;
        this.logger.warn(`Redis: ${error.message}`);
      });
    }
  }

  async enqueue(job: QueuedJob): Promise<void> {
    await this.queues[job.queue].add(job.name, job.data, JOB_OPTIONS[job.name](job));
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }
}
