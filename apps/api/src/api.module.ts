import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, ConfigModule } from '@splitstream/config';
import { HealthModule } from '@splitstream/health';
import { PersistenceModule } from '@splitstream/persistence';

@Module({})
export class ApiModule {
  static register(config: AppConfig): DynamicModule {
    return { module: ApiModule, imports: [ConfigModule.forRoot(config), PersistenceModule, HealthModule] };
  }
}
