import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { MetricsService } from '@splitstream/observability';
import { WALLET, type Wallet, type WalletStatus } from '@splitstream/wallet';

// Probes are answered from a recent look at the wallet, not one wallet request per probe, and never wait long.
const CACHE_MS = 10_000;
const PROBE_TIMEOUT_MS = 3_000;

// The wallet the service pays from: reachable or not, and its balance where the rail tells it (also the
// splitstream_wallet_balance_msat gauge). A wallet that refuses our credentials is down: nothing can be paid until an
// operator fixes them. One that cannot be reached is reported, but not down: payments wait and are reconciled.
@Injectable()
export class WalletHealthIndicator {
  private last?: { at: number; status: WalletStatus };

  constructor(
    @Inject(WALLET) private readonly wallet: Wallet,
    private readonly indicators: HealthIndicatorService,
    private readonly metrics: MetricsService,
  ) {}

  async isHealthy(key: string) {
    const status = await this.status();
    const indicator = this.indicators.check(key);
    if (!status.authorized) return indicator.down({ message: `the wallet refuses our credentials: ${status.message ?? ''}`.trim() });
    return indicator.up({
      reachable: status.reachable,
      ...(status.balanceMsat !== undefined && { balanceMsat: String(status.balanceMsat) }),
      ...(status.message && !status.reachable && { message: status.message }),
    });
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
    if (status.balanceMsat !== undefined) this.metrics.walletBalance.set(status.balanceMsat);
    return status;
  }
}
