import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

// Requests per API key per minute on ingestion, counted in Redis so every api instance shares one budget.
// While Redis is down it lets requests through: events are stored in PostgreSQL and nothing is lost by it.
@Injectable()
export class IngestionRateLimiter implements OnModuleDestroy {
  private readonly logger = new Logger(IngestionRateLimiter.name);
  private readonly redis: Redis;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500 });
    this.redis.on('error', () => undefined);
  }

  async take(keyId: string, now = Date.now()): Promise<RateDecision> {
    const windowStart = Math.floor(now / 60_000) * 60_000;
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + 60_000 - now) / 1000));
    const counter = `${this.config.QUEUE_PREFIX}:ratelimit:events:${keyId}:${windowStart}`;
    try {
      const [[, count]] = (await this.redis.multi().incr(counter).expire(counter, 120).exec()) as [[Error | null, number]];
      return { allowed: count <= this.config.EVENTS_RATE_LIMIT_PER_MINUTE, retryAfterSeconds };
    } catch (error) {
      this.logger.warn(`rate limit not checked (${(error as Error).message}); request allowed`);
      return { allowed: true, retryAfterSeconds };
    }
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
