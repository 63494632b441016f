import { once } from 'node:events';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';

const PING_TIMEOUT_MS = 1_000;

@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  // Its own connection: fails fast while Redis is down (no offline queue) and reconnects by itself after.
  private readonly redis: Redis;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly indicators: HealthIndicatorService,
  ) {
    this.redis = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: PING_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 1_000),
    });
    this.redis.on('error', () => undefined);
  }

  async isHealthy(key: string) {
    const indicator = this.indicators.check(key);
    try {
      await this.ping();
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }

  // Right after boot or a reconnect the connection may not be ready yet; without an offline queue, wait for it.
  private async ping(): Promise<void> {
    if (this.redis.status !== 'ready') {
      await once(this.redis, 'ready', { signal: AbortSignal.timeout(PING_TIMEOUT_MS) }).catch(() => {
        throw new Error(`not connected within ${PING_TIMEOUT_MS} ms (connection ${this.redis.status})`);
      });
    }
    await this.redis.ping();
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
  }
}
