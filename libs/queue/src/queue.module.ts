import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { JobQueue } from './job-queue.service.js';
import type { Queue } from 'bullmq';
import type { JobContract } from './queue.contracts.js';

// The queues for the given job contracts, on one Redis connection configuration.
@Global()
@Module({})
export class QueueModule {
  static forJobs(contracts: JobContract<never>[]): DynamicModule {
    const names = [...new Set(contracts.map((c) => c.queue))];
    return {
      module: QueueModule,
      imports: [
        BullModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            prefix: config.QUEUE_PREFIX,
            // Options rather than a client: BullMQ opens and closes its connections itself. Its workers need
            // maxRetriesPerRequest: null; ioredis reconnects by itself after a Redis outage.
            connection: {
              url: config.REDIS_URL,
              maxRetriesPerRequest: null,
              retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
            },
          }),
        }),
        BullModule.registerQueue(...names.map((name) => ({ name }))),
      ],
      providers: [
        {
          provide: JobQueue,
          inject: names.map(getQueueToken),
          useFactory: (...queues: Queue[]) => new JobQueue(new Map(names.map((name, i) => [name, queues[i]!]))),
        },
      ],
      exports: [JobQueue, BullModule],
    };
  }
}
