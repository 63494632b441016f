import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ApiKeysModule } from '@splitstream/auth';
import { HealthController } from './health.controller.js';
import { METRICS_PORT_SETTING, type MetricsPortSetting, MetricsServer } from './metrics.server.js';
import { RedisHealthIndicator } from './redis.health.js';
import { ReportedWalletHealthIndicator } from './reported-wallet.health.js';
import { WalletHealth } from './wallet-health.js';
import { WalletHealthIndicator } from './wallet.health.js';
import { WalletStatusStore } from './wallet-status.store.js';

// /health on the process's public port (details for admin keys only), and /metrics on an internal listener of its
// own (MetricsServer). The worker's looks at the wallet (WALLET, from the global WalletModule) and publishes what
// it sees; the api's needs no wallet: it shows what a worker last published.
@Module({})
export class HealthModule {
  static forWorker(): DynamicModule {
    return HealthModule.with(WalletHealthIndicator, 'WORKER_METRICS_PORT');
  }

  static forApi(): DynamicModule {
    return HealthModule.with(ReportedWalletHealthIndicator, 'METRICS_PORT');
  }

  private static with(wallet: typeof WalletHealthIndicator | typeof ReportedWalletHealthIndicator, metricsPort: MetricsPortSetting): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false }), ApiKeysModule],
      controllers: [HealthController],
      providers: [
        RedisHealthIndicator,
        WalletStatusStore,
        wallet,
        { provide: WalletHealth, useExisting: wallet },
        { provide: METRICS_PORT_SETTING, useValue: metricsPort },
        MetricsServer,
      ],
      exports: [WalletStatusStore, MetricsServer],
    };
  }
}
