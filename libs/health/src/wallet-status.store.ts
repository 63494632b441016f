import { once } from 'node:events';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import type { WalletStatus } from '@splitstream/wallet';

// How long a published status stands: a few of the worker's probes (every WALLET_PROBE_EVERY_MS).
export const WALLET_STATUS_TTL_MS = 60_000;
const TIMEOUT_MS = 1_000;

export interface ReportedWalletStatus extends WalletStatus {
  at: string; // when the worker looked (ISO 8601)
}

// The worker's latest look at the wallet, in Redis under `<QUEUE_PREFIX>:wallet-status`: the worker, which holds
// the wallet, publishes it; the api, which holds none, shows it on its /health. Its own connection, failing fast
// while Redis is down (no offline queue), like the Redis health check's.
@Injectable()
export class WalletStatusStore implements OnModuleDestroy {
  private readonly redis: Redis;
  private readonly key: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.key = `${config.QUEUE_PREFIX}:wallet-status`;
    this.redis = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 1_000),
    });
    this.redis.on('error', () => undefined);
  }

  async publish(status: WalletStatus, at = new Date()): Promise<void> {
    const reported: ReportedWalletStatus = { ...status, at: at.toISOString() };
    await this.ready();
    await this.redis.set(this.key, JSON.stringify(reported), 'PX', WALLET_STATUS_TTL_MS);
  }

  // The latest status if one was published within WALLET_STATUS_TTL_MS; null otherwise (or while Redis is down).
  async latest(now = Date.now()): Promise<ReportedWalletStatus | null> {
    const raw = await this.ready()
      .then(() => this.redis.get(this.key))
      .catch(() => null);
    if (!raw) return null;
    try {
      const reported = JSON.parse(raw) as ReportedWalletStatus;
      return now - Date.parse(reported.at) <= WALLET_STATUS_TTL_MS ? reported : null;
    } catch {
      return null;
    }
  }

  // Right after boot or a reconnect the connection may not be ready yet; without an offline queue, wait for it.
  private async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await once(this.redis, 'ready', { signal: AbortSignal.timeout(TIMEOUT_MS) });
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
  }
}
