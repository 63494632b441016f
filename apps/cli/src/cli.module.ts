import { type DynamicModule, Module } from '@nestjs/common';
import { ApiKeysModule } from '@splitstream/auth';
import { type AppConfig, ConfigModule } from '@splitstream/config';
import { LedgerModule } from '@splitstream/ledger';
import { MetricsModule } from '@splitstream/observability';
import { ReconciliationModule } from '@splitstream/payouts';
import { PersistenceModule } from '@splitstream/persistence';
import { TenantsModule } from '@splitstream/tenants';
import { WalletModule } from '@splitstream/wallet';

@Module({})
export class CliModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        PersistenceModule,
        LedgerModule,
        ApiKeysModule,
        MetricsModule.forProcess('cli'),
        WalletModule,
        ReconciliationModule,
        TenantsModule,
      ],
    };
  }
}
