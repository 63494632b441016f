import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { parseConfig } from '@splitstream/config';
import { MetricsService } from '@splitstream/observability';
import { RateBudget, RateLimiter } from './rate-limiter.js';

// Redis on a port nothing listens on: every command fails at once, as when Redis is down.
describe('RateLimiter without Redis', () => {
  const metrics = new MetricsService('api');
  const config = parseConfig({ ...process.env, REDIS_URL: 'redis://127.0.0.1:1/0', EVENTS_RATE_LIMIT_PER_MINUTE: '3', PAYOUT_RUN_RATE_LIMIT_PER_MINUTE: '2' });
  const limiter = new RateLimiter(config, metrics);
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  afterAll(() => {
    limiter.onModuleDestroy();
    warn.mockRestore();
  });
  const fallbacks = async (budget: string) => (await metrics.rateLimitFallback.get()).values.find((v) => v.labels.budget === budget)?.value ?? 0;

  it('counts each budget per subject per minute in the process, and counts every such request in the metric', async () => {
    const minute = Date.UTC(2026, 11, 2, 7, 0, 0);
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await limiter.take(RateBudget.PayoutRun, 'app-a', minute + 1_000));
    expect(runs.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(runs[2]).toMatchObject({
      retryAfterSeconds: 59,
      refusal: 'more than 2 payout runs requested for this app this minute (PAYOUT_RUN_RATE_LIMIT_PER_MINUTE); retry in 59 s',
    });
    expect((await limiter.take(RateBudget.PayoutRun, 'app-b', minute + 2_000)).allowed).toBe(true);
    expect((await limiter.take(RateBudget.Events, 'app-a', minute + 2_000)).allowed).toBe(true);
    expect((await limiter.take(RateBudget.PayoutRun, 'app-a', minute + 60_000)).allowed).toBe(true);
    expect([await fallbacks('payout-run'), await fallbacks('events')]).toEqual([5, 1]);
    // Logged once for the interval, not once per request.
    expect(warn.mock.calls).toEqual([[expect.stringMatching(/^rate limits counted in this process until Redis answers again/)]]);
  });
});
