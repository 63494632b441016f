import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { MetricsService } from '@splitstream/observability';
import { WALLET, type Wallet, type WalletStatus } from '@splitstream/wallet';
import { WalletHealth, walletIndicator } from './wallet-health.js';
import { WalletStatusStore } from './wallet-status.store.js';

// Probes are answered from a recent look at the wallet, not one wallet request per probe, and never wait long.
const CACHE_MS = 10_000;
const PROBE_TIMEOUT_MS = 3_000;
// The worker looks this often whatever asks its /health, and publishes what it saw for the api's /health.
export const WALLET_PROBE_EVERY_MS = 10_000;

// The wallet the service pays from (the worker's; the api holds none): reachable or not, and its balance where
// the rail tells it (also the splitstream_wallet_balance_msat gauge). Each look is published to Redis
// (WalletStatusStore), where the api's /health reads it.
@Injectable()
export class WalletHealthIndicator extends WalletHealth implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WalletHealthIndicator.name);
  private last?: { at: number; status: WalletStatus };
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(WALLET) private readonly wallet: Wallet,
    private readonly indicators: HealthIndicatorService,
    private readonly metrics: MetricsService,
    private readonly store: WalletStatusStore,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    const probe = () => void this.status().catch((error: Error) => this.logger.warn(`wallet probe: ${error.message}`));
    probe();
    this.timer = setInterval(probe, WALLET_PROBE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async isHealthy(key: string) {
    return walletIndicator(this.indicators, key, await this.status());
  }

  private async status(): Promise<WalletStatus> {
    if (this.last && Date.now() - this.last.at < CACHE_MS) return this.last.status;
    const status = await Promise.race([
      this.wallet.status(),
      new Promise<WalletStatus>((resolve) =>
        setTimeout(() => resolve({ reachable: false, authorized: true, message: `no answer within ${PROBE_TIMEOUT_MS} ms` }), PROBE_TIMEOUT_MS).unref(),
      ),
    ]);
    this.last = { at: Date.now(), status };
    if (status.balanceMsat !== undefined) this.metrics.reportWalletBalance(status.balanceMsat);
    await this.store.publish(status).catch(() => undefined); // Redis down: /health says so by itself
    return status;
  }
}
