import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, walletTarget } from '@splitstream/config';
import { MetricsService } from '@splitstream/observability';
import { AlbyClient } from './alby/alby-client.js';
import { AlbyWallet } from './alby/alby.wallet.js';
import { WALLET } from './wallet.types.js';

@Global()
@Module({
  providers: [
    {
      provide: AlbyClient,
      // Metrics are optional: the operator CLI uses the wallet without a metrics registry.
      inject: [APP_CONFIG, { token: MetricsService, optional: true }],
      useFactory: (config: AppConfig, metrics?: MetricsService) => {
        const target = walletTarget(config);
        if (target.simulated) {
          new Logger('Wallet').warn(
            `ALBY_ACCESS_TOKEN is not set: payments go to the Alby SIMULATOR at ${target.url}. No real sats move.`,
          );
        }
        return new AlbyClient({
          baseUrl: target.url,
          accessToken: target.token,
          timeoutMs: config.ALBY_TIMEOUT_MS,
          maxRequestsPerSecond: config.ALBY_MAX_REQUESTS_PER_SECOND,
          observe: (route, seconds, outcome) => metrics?.walletLatency.observe({ route, outcome }, seconds),
        });
      },
    },
    { provide: WALLET, inject: [AlbyClient], useFactory: (client: AlbyClient) => new AlbyWallet(client) },
  ],
  exports: [WALLET, AlbyClient],
})
export class WalletModule {}
