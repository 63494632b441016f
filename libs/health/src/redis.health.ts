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
      lazyConnect: false,
      retryStrategy: (attempt) => Math.min(attempt * 200, 1_000),
    });
    this.redis.on('error', () => undefined);
  }

  async isHealthy(key: string) {
    const indicator = this.indicators.check(key);
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), PING_TIMEOUT_MS).unref()),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
  }
}
