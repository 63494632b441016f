import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { WalletStatus } from '@splitstream/wallet';

// The wallet's part of /health: the worker's from the wallet itself, the api's from what the worker reported.
export abstract class WalletHealth {
  abstract isHealthy(key: string): Promise<HealthIndicatorResult>;
}

// A wallet that refuses our credentials is down: nothing can be paid until an operator fixes them. One that
// cannot be reached is reported, but not down: payments wait and are reconciled.
export function walletIndicator(indicators: HealthIndicatorService, key: string, status: WalletStatus, extra: Record<string, unknown> = {}) {
  const indicator = indicators.check(key);
  if (!status.authorized) return indicator.down({ message: `the wallet refuses our credentials: ${status.message ?? ''}`.trim(), ...extra });
  return indicator.up({
    reachable: status.reachable,
    ...(status.balanceMsat !== undefined && { balanceMsat: String(status.balanceMsat) }),
    ...(status.message && !status.reachable && { message: status.message }),
    ...extra,
  });
}
