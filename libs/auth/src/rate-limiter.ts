import { Inject, Injectable, Logger, type OnModuleDestroy, SetMetadata } from '@nestjs/common';
import { Redis, type Result } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { MetricsService } from '@splitstream/observability';

// The request budgets, per minute: POST /v1/events per API key, POST /v1/payouts/run and POST /v1/events/retry per app.
export enum RateBudget {
  Events = 'events',
  PayoutRun = 'payout-run',
  EventRetry = 'event-retry',
}
export const RATE_BUDGET = 'splitstream:rate-budget';
// A route that spends a budget (the guard takes from it after the key check, and answers 429 beyond).
export const RateLimit = (budget: RateBudget) => SetMetadata(RATE_BUDGET, budget);

const BUDGETS = {
  [RateBudget.Events]: { setting: 'EVENTS_RATE_LIMIT_PER_MINUTE', what: 'POST /v1/events requests for this API key' },
  [RateBudget.PayoutRun]: { setting: 'PAYOUT_RUN_RATE_LIMIT_PER_MINUTE', what: 'payout runs requested for this app' },
  [RateBudget.EventRetry]: { setting: 'EVENT_RETRY_RATE_LIMIT_PER_MINUTE', what: 'event retries requested for this app' },
} as const;

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  refusal: string; // what a 429 says
}

const WINDOW_MS = 60_000;
// A window's counter outlives its minute by one, then Redis drops it.
const COUNTER_TTL_SECONDS = 120;
// One command a request, atomic: the counter is incremented, and given its expiry when this made it.
const COUNT_IN_WINDOW = `local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    countInWindow(counter: string, ttlSeconds: number): Result<number, Context>;
  }
}
// After Redis fails, it is tried again this much later: meanwhile requests are not held by its timeout.
const REDIS_RETRY_MS = 5_000;
// The fallback is logged at most once per interval (the metric counts every request).
const WARN_INTERVAL_MS = 60_000;

// Fixed one-minute windows counted in Redis, so every api instance shares one budget. When Redis is slow (over
// its 500 ms command timeout) or down, each instance counts in its own memory instead: the limit then holds per
// instance (N instances let up to N times the budget through), which keeps a limit without stopping ingestion.
// Every request counted so is in splitstream_rate_limit_fallback_total{budget}.
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  private readonly logger = new Logger(RateLimiter.name);
  private readonly redis: Redis;
  private readonly local = new Map<string, number>();
  private localWindow = 0;
  private redisRetryAt = 0;
  private lastWarning = -Infinity;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    // Auto-pipelining: the counts of requests that arrive together go to Redis in one write.
    this.redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500, enableAutoPipelining: true });
    this.redis.defineCommand('countInWindow', { numberOfKeys: 1, lua: COUNT_IN_WINDOW });
    this.redis.on('error', () => undefined);
  }

  // `subject` is whose budget it is: the API key for events, the app for payout runs.
  async take(budget: RateBudget, subject: string, now = Date.now()): Promise<RateDecision> {
    const windowStart = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
    const counter = `${this.config.QUEUE_PREFIX}:ratelimit:${budget}:${subject}:${windowStart}`;
    const count = (await this.countInRedis(counter, now)) ?? this.countLocally(budget, counter, windowStart);
    const { setting, what } = BUDGETS[budget];
    const limit = this.config[setting];
    return { allowed: count <= limit, retryAfterSeconds, refusal: `more than ${limit} ${what} this minute (${setting}); retry in ${retryAfterSeconds} s` };
  }

  private async countInRedis(counter: string, now: number): Promise<number | undefined> {
    if (now < this.redisRetryAt) return undefined;
    try {
      return await this.redis.countInWindow(counter, COUNTER_TTL_SECONDS);
    } catch (error) {
      this.redisRetryAt = now + REDIS_RETRY_MS;
      if (now - this.lastWarning >= WARN_INTERVAL_MS) {
        this.lastWarning = now;
        this.logger.warn(`rate limits counted in this process until Redis answers again (${(error as Error).message})`);
      }
      return undefined;
    }
  }

  private countLocally(budget: RateBudget, counter: string, windowStart: number): number {
    if (windowStart !== this.localWindow) {
      this.local.clear(); // only the current window's counters are ever read
      this.localWindow = windowStart;
    }
    const count = (this.local.get(counter) ?? 0) + 1;
    this.local.set(counter, count);
    this.metrics.rateLimitFallback.inc({ budget });
    return count;
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
