import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from './config.schema.js';

export const APP_CONFIG = Symbol('APP_CONFIG');

// Boot validates the environment before Nest starts (see each app's main.ts); this module only shares the result.
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}
