import { Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, nwcTarget, walletTarget } from '@splitstream/config';
import { MetricsService } from '@splitstream/observability';
import { AlbyClient } from './alby/alby-client.js';
import { AlbyWallet } from './alby/alby.wallet.js';
import { connectionFrom } from './nwc/nip47.js';
import { NwcClient } from './nwc/nwc-client.js';
import { NwcWallet } from './nwc/nwc.wallet.js';
import { WALLET, type Wallet } from './wallet.types.js';

const logger = new Logger('Wallet');

// The rail WALLET_BACKEND names: the Alby Wallet API contract (alby, or its simulator alby-sim), or Nostr Wallet
// Connect (nwc, or the development wallet nwc-sim). Only the rail in use is built.
function buildWallet(config: AppConfig, metrics?: MetricsService): { wallet: Wallet; close: () => void } {
  if (config.WALLET_BACKEND === 'nwc' || config.WALLET_BACKEND === 'nwc-sim') {
    const target = nwcTarget(config);
    if (target.simulated) logger.warn('WALLET_BACKEND=nwc-sim: payments go to the development NWC wallet (apps/nwc-sim). No real sats move.');
    const client = new NwcClient(connectionFrom(target.url), config.NWC_TIMEOUT_MS);
    client.start();
    return { wallet: new NwcWallet(client, config.NWC_MAX_PAYMENTS_PER_SECOND), close: () => client.close() };
  }
  const target = walletTarget(config);
  if (target.simulated) logger.warn(`WALLET_BACKEND=alby-sim: payments go to the Alby SIMULATOR at ${target.url}. No real sats move.`);
  const client = new AlbyClient({
    baseUrl: target.url,
    accessToken: target.token,
    timeoutMs: config.ALBY_TIMEOUT_MS,
    maxRequestsPerSecond: config.ALBY_MAX_REQUESTS_PER_SECOND,
    observe: (route, seconds, outcome) => metrics?.walletLatency.observe({ route, outcome }, seconds),
  });
  return { wallet: new AlbyWallet(client), close: () => undefined };
}

const WALLET_HANDLE = Symbol('WALLET_HANDLE');

class WalletShutdown implements OnApplicationShutdown {
  constructor(private readonly handle: { close: () => void }) {}
  onApplicationShutdown(): void {
    this.handle.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: WALLET_HANDLE,
      // Metrics are optional: the operator CLI uses the wallet without a metrics registry.
      inject: [APP_CONFIG, { token: MetricsService, optional: true }],
      useFactory: (config: AppConfig, metrics?: MetricsService) => buildWallet(config, metrics),
    },
    { provide: WALLET, inject: [WALLET_HANDLE], useFactory: (handle: { wallet: Wallet }) => handle.wallet },
    { provide: WalletShutdown, inject: [WALLET_HANDLE], useFactory: (handle: { close: () => void }) => new WalletShutdown(handle) },
  ],
  exports: [WALLET],
})
export class WalletModule {}
