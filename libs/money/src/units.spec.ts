import fc from 'fast-check';
import { millisecondsOfText, wholeMilliseconds } from './units.js';

describe('wholeMilliseconds', () => {
  // Whole products of seconds x 1000 skip the decimal text: they must give exactly what the text gives.
  it('gives what the decimal text gives, for any number of seconds', () => {
    const seconds = fc.oneof(
      fc.double({ min: 0, max: 1e10, noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: 0, max: 1_000_000_000 }).map((n) => n / 1000),
      fc.integer({ min: 0, max: 10_000_000 }).map((n) => n / 100_000),
      fc.integer({ min: 0, max: 2 ** 40 }).map((n) => n / 1000),
    );
    fc.assert(
      fc.property(seconds, (s) => wholeMilliseconds(s) === millisecondsOfText(s)),
      { numRuns: 20_000 },
    );
  });

  it('rounds the decimal text half up, float noise included', () => {
    expect([0, 60, 0.001, 0.0005, 0.0004999, 9.985000000000014, 1830.4170068027211, 0.1 + 0.2, 1.005, 2 ** 40 / 1000 + 0.5].map(wholeMilliseconds)).toEqual([
      0n,
      60_000n,
      1n,
      1n,
      0n,
      9_985n,
      1_830_417n,
      300n,
      1_005n,
      2n ** 40n + 500n,
    ]);
  });

  it('refuses negative and non-finite seconds', () => {
    for (const s of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => wholeMilliseconds(s)).toThrow(RangeError);
  });
});
