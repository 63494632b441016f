import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { JobQueue } from './job-queue.service.js';
import { QueueName } from './queue.contracts.js';

@Global()
@Module({
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
    BullModule.registerQueue({ name: QueueName.Ledger }, { name: QueueName.Payouts }),
  ],
  providers: [JobQueue],
  exports: [JobQueue, BullModule],
})
export class QueueModule {}
