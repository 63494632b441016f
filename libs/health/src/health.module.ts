import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { RedisHealthIndicator } from './redis.health.js';
import { ReportedWalletHealthIndicator } from './reported-wallet.health.js';
import { WalletHealth } from './wallet-health.js';
import { WalletHealthIndicator } from './wallet.health.js';
import { WalletStatusStore } from './wallet-status.store.js';

// /health and /metrics. The worker's looks at the wallet (WALLET, from the global WalletModule) and publishes
// what it sees; the api's needs no wallet: it shows what a worker last published.
@Module({})
export class HealthModule {
  static forWorker(): DynamicModule {
    return HealthModule.with(WalletHealthIndicator);
  }

  static forApi(): DynamicModule {
    return HealthModule.with(ReportedWalletHealthIndicator);
  }

  private static with(wallet: typeof WalletHealthIndicator | typeof ReportedWalletHealthIndicator): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers: [RedisHealthIndicator, WalletStatusStore, wallet, { provide: WalletHealth, useExisting: wallet }],
      exports: [WalletStatusStore],
    };
  }
}
