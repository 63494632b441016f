import { type DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { type AppConfig, ConfigModule } from '@splitstream/config';
import { LoggingModule, MetricsModule } from '@splitstream/observability';
import { HealthModule } from '@splitstream/health';
import { LedgerModule } from '@splitstream/ledger';
import { PayoutRunnerModule } from '@splitstream/payouts';
import { PersistenceModule } from '@splitstream/persistence';
import { QueueModule } from '@splitstream/queue';
import { WalletModule } from '@splitstream/wallet';
import { LedgerProcessor } from './processors/ledger.processor.js';
import { PayoutsProcessor } from './processors/payouts.processor.js';
import { WorkerSchedule } from './worker-schedule.service.js';

@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        MetricsModule,
        PersistenceModule,
        QueueModule,
        HealthModule,
        WalletModule,
        LedgerModule,
        PayoutRunnerModule,
        ScheduleModule.forRoot(),
      ],
      providers: [LedgerProcessor, PayoutsProcessor, WorkerSchedule],
    };
  }
}
