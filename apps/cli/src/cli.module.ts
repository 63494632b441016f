import { type DynamicModule, Module } from '@nestjs/common';
import { ApiKeysModule } from '@splitstream/auth';
import { type AppConfig, ConfigModule } from '@splitstream/config';
import { LedgerModule } from '@splitstream/ledger';
import { PersistenceModule } from '@splitstream/persistence';

@Module({})
export class CliModule {
  static register(config: AppConfig): DynamicModule {
    return { module: CliModule, imports: [ConfigModule.forRoot(config), PersistenceModule, LedgerModule, ApiKeysModule] };
  }
}
