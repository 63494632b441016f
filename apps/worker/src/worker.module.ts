import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, ConfigModule } from '@splitstream/config';
import { HealthModule } from '@splitstream/health';
import { PersistenceModule } from '@splitstream/persistence';
import { WalletModule } from '@splitstream/wallet';

@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    return { module: WorkerModule, imports: [ConfigModule.forRoot(config), PersistenceModule, HealthModule, WalletModule] };
  }
}
