import { apportion, microUnits, Ratio } from './fraction.js';

const ratio = (n: bigint, d: bigint) => {
  const r = new Ratio();
  r.add(n, d);
  return r;
};

describe('microUnits', () => {
  it.each([
    [50, 50_000_000n],
    [33.33, 33_330_000n],
    [0.000001, 1n],
    [1_000_000.123456, 1_000_000_123_456n],
    [-0.25, -250_000n],
    [0, 0n],
  ])('reads %p in millionths, as written', (value, micro) => {
    expect(microUnits(value)).toBe(micro);
  });

  it.each([1e-7, 0.1234567, 1e300, 1e21, Number.NaN, Number.POSITIVE_INFINITY])('refuses %p: not a decimal with at most 6 places', (value) => {
    expect(() => microUnits(value)).toThrow(/at most 6 places/);
  });
});

describe('Ratio', () => {
  it('adds over a denominator it already holds without growing it, and over a new one by multiplying', () => {
    const r = ratio(1n, 3n);
    r.add(1n, 3n);
    expect([r.n, r.d]).toEqual([2n, 3n]);
    r.add(1n, 7n);
    expect([r.n, r.d]).toEqual([17n, 21n]);
  });
});

describe('apportion', () => {
  it('floors each share and gives the leftover to the largest remainders', () => {
    expect(apportion(10n, [ratio(10n, 3n), ratio(10n, 3n), ratio(10n, 3n)], 1n)).toEqual([4n, 3n, 3n]);
    expect(apportion(10n, [ratio(3n, 2n), ratio(17n, 4n), ratio(17n, 4n)], 1n)).toEqual([2n, 4n, 4n]);
  });

  it('compares remainders over different denominators and a common scale exactly', () => {
    // 7/3 = 2.333 and 9/4 = 2.25 of a total 5 (plus 0.41666): the larger remainder wins the msat left over.
    expect(apportion(5n, [ratio(70n, 3n), ratio(90n, 4n), ratio(50n, 12n)], 10n)).toEqual([2n, 2n, 1n]);
  });

  it('breaks ties by position, the earlier share first', () => {
    expect(apportion(1n, [ratio(1n, 2n), ratio(1n, 2n)], 1n)).toEqual([1n, 0n]);
  });

  it('refuses shares that do not add up to the total', () => {
    expect(() => apportion(10n, [ratio(3n, 1n), ratio(3n, 1n)], 1n)).toThrow(/do not add up/);
  });
});
