import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ErrorFilter } from '@splitstream/errors';
import { ScheduleModule } from '@nestjs/schedule';
import { type AppConfig, ConfigModule } from '@splitstream/config';
import { LoggingModule, MetricsModule } from '@splitstream/observability';
import { HealthModule } from '@splitstream/health';
import { LedgerGauges, LedgerModule } from '@splitstream/ledger';
import { TenantsModule } from '@splitstream/tenants';
import { PayoutRunnerModule, SERVICE_JOBS } from '@splitstream/payouts';
import { PersistenceModule } from '@splitstream/persistence';
import { FeedsModule } from '@splitstream/feeds';
import { QueueModule } from '@splitstream/queue';
import { WalletModule } from '@splitstream/wallet';
import { BoostValuesModule } from '@splitstream/boosts';
import { BoostsProcessor, BoostValuesProcessor } from './processors/boosts.processor.js';
import { EventValuesProcessor, LedgerProcessor } from './processors/ledger.processor.js';
import { AddressesProcessor } from './processors/addresses.processor.js';
import { PayoutsProcessor } from './processors/payouts.processor.js';
import { ReconciliationProcessor } from './processors/reconciliation.processor.js';
import { WorkerSchedule } from './worker-schedule.service.js';

@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        MetricsModule.forProcess('worker'),
        PersistenceModule,
        QueueModule.forJobs(SERVICE_JOBS),
        HealthModule.forWorker(),
        WalletModule,
        LedgerModule,
        FeedsModule,
        PayoutRunnerModule,
        TenantsModule,
        BoostValuesModule,
        ScheduleModule.forRoot(),
      ],
      providers: [
        LedgerProcessor,
        EventValuesProcessor,
        PayoutsProcessor,
        BoostsProcessor,
        BoostValuesProcessor,
        AddressesProcessor,
        ReconciliationProcessor,
        WorkerSchedule,
        LedgerGauges,
        { provide: APP_FILTER, useClass: ErrorFilter },
      ],
    };
  }
}
