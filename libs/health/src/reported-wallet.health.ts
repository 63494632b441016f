import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { WalletHealth, walletIndicator } from './wallet-health.js';
import { WalletStatusStore } from './wallet-status.store.js';

// The api's view of the wallet: it holds no wallet credentials, so it shows what a worker last reported (within
// WALLET_STATUS_TTL_MS). No recent report is `unknown`, not down by itself: a worker's absence shows elsewhere
// (queues grow), and the api still takes events. The balance gauge is the worker's alone (its /metrics).
@Injectable()
export class ReportedWalletHealthIndicator extends WalletHealth {
  constructor(
    private readonly store: WalletStatusStore,
    private readonly indicators: HealthIndicatorService,
  ) {
    super();
  }

  async isHealthy(key: string) {
    const reported = await this.store.latest();
    if (!reported) return this.indicators.check(key).up({ state: 'unknown', message: 'no worker has reported the wallet recently' });
    return walletIndicator(this.indicators, key, reported, { state: 'reported', reportedAt: reported.at });
  }
}
