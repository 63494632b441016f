import { MetricsService } from '@splitstream/observability';
import { Redis } from 'ioredis';
import { testConfig } from '../../../test/support/test-config.js';
import { RateBudget, RateLimiter } from './rate-limiter.js';

// Against the real Redis: a window's count is shared (every api instance's limiter counts in one key), exact under
// concurrent requests, and its key expires after the window instead of staying for ever.
describe('RateLimiter with Redis (integration)', () => {
  const config = testConfig({ EVENTS_RATE_LIMIT_PER_MINUTE: '5' });
  const metrics = new MetricsService('api');
  const [first, second] = [new RateLimiter(config, metrics), new RateLimiter(config, metrics)];
  const redis = new Redis(config.REDIS_URL);
  const subject = `key-${process.pid}-${Date.now()}`;
  afterAll(async () => {
    first.onModuleDestroy();
    second.onModuleDestroy();
    await redis.quit();
  });

  // A limiter counts in its own memory until its connection is up (it never holds a request for Redis).
  beforeAll(async () => {
    for (const limiter of [first, second]) while (limiter['redis'].status !== 'ready') await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it('counts concurrent requests of two instances once each in one window, and lets the counter expire', async () => {
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const decisions = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? first : second).take(RateBudget.Events, subject, minute + 1_000)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    const counter = `${config.QUEUE_PREFIX}:ratelimit:events:${subject}:${minute}`;
    expect(await redis.get(counter)).toBe('8');
    const ttl = await redis.ttl(counter);
    expect(ttl).toBeGreaterThan(60);
    expect(ttl).toBeLessThanOrEqual(120);
    expect((await metrics.rateLimitFallback.get()).values).toEqual([]);
  });
});
