import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JOB_OPTIONS, QueueName, type QueuedJob } from './queue.contracts.js';

@Injectable()
export class JobQueue {
  private readonly queues: Record<QueueName, Queue>;

  constructor(@InjectQueue(QueueName.Ledger) ledger: Queue, @InjectQueue(QueueName.Payouts) payouts: Queue) {
    this.queues = { [QueueName.Ledger]: ledger, [QueueName.Payouts]: payouts };
  }

  async enqueue(job: QueuedJob): Promise<void> {
    await this.queues[job.queue].add(job.name, job.data, JOB_OPTIONS[job.name](job));
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }
}
