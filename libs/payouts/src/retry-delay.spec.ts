import { retryDelaySeconds } from './payout-runner.service.js';

describe('retryDelaySeconds', () => {
  it('doubles from the base with each consecutive failure', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, 60, 10_000))).toEqual([60, 120, 240, 480, 960]);
  });

  it('is capped', () => {
    expect(retryDelaySeconds(30, 60, 3_600)).toBe(3_600);
  });
});
