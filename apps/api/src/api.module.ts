import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuthGuard, AuthModule } from '@splitstream/auth';
import { type AppConfig, ConfigModule } from '@splitstream/config';
import { LoggingModule, MetricsModule } from '@splitstream/observability';
import { HealthModule } from '@splitstream/health';
import { FeedsModule } from '@splitstream/feeds';
import { IngestionModule } from '@splitstream/ingestion';
import { LedgerGauges, LedgerModule } from '@splitstream/ledger';
import { PayoutsModule, SERVICE_JOBS } from '@splitstream/payouts';
import { PersistenceModule } from '@splitstream/persistence';
import { QueueModule } from '@splitstream/queue';
import { TenantsModule } from '@splitstream/tenants';
import { BoostsModule } from '@splitstream/boosts';
import { AppsController } from './controllers/apps.controller.js';
import { BoostsController } from './controllers/boosts.controller.js';
import { FeedsController } from './controllers/feeds.controller.js';
import { PaymentsController } from './controllers/payments.controller.js';
import { EventsController } from './controllers/events.controller.js';
import { LedgerController } from './controllers/ledger.controller.js';
import { PayoutsController } from './controllers/payouts.controller.js';
import { RecipientsController } from './controllers/recipients.controller.js';
import { Cursors } from './http/cursors.js';
import { ErrorFilter } from '@splitstream/errors';

export const API_CONTROLLERS = [
  EventsController,
  BoostsController,
  PayoutsController,
  RecipientsController,
  PaymentsController,
  FeedsController,
  LedgerController,
  AppsController,
];

@Module({})
export class ApiModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        MetricsModule.forProcess('api'),
        PersistenceModule,
        AuthModule,
        QueueModule.forJobs(SERVICE_JOBS),
        HealthModule.forApi(),
        IngestionModule,
        FeedsModule,
        LedgerModule,
        PayoutsModule,
        TenantsModule,
        BoostsModule,
      ],
      controllers: API_CONTROLLERS,
      providers: [{ provide: APP_FILTER, useClass: ErrorFilter }, { provide: APP_GUARD, useExisting: AuthGuard }, LedgerGauges, Cursors],
    };
  }
}
