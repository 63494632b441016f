import { Fraction } from './fraction.js';

describe('Fraction.fromDecimal', () => {
  it.each([
    [50, 50n, 1n],
    [33.33, 3333n, 100n],
    [0.1, 1n, 10n],
    [1e-7, 1n, 10_000_000n],
    [5e-324, 1n, 2n * 10n ** 323n], // reduced: 5 / 10^324
    [1.5e21, 1_500_000_000_000_000_000_000n, 1n],
    [-0.25, -1n, 4n],
  ])('reads %p as the decimal it is written as', (value, n, d) => {
    const f = Fraction.fromDecimal(value);
    expect([f.n, f.d]).toEqual([n, d]);
  });

  it('refuses NaN and infinities', () => {
    expect(() => Fraction.fromDecimal(Number.NaN)).toThrow(RangeError);
    expect(() => Fraction.fromDecimal(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('prints exact decimals', () => {
    expect(Fraction.fromDecimal(60.5).add(Fraction.fromDecimal(40)).toDecimal()).toBe('100.5');
    expect(Fraction.fromDecimal(0.1).add(Fraction.fromDecimal(0.2)).toDecimal()).toBe('0.3');
    expect(new Fraction(-7n, 4n).toDecimal()).toBe('-1.75');
  });

  it('floors towards negative infinity', () => {
    expect(new Fraction(7n, 2n).floor()).toBe(3n);
    expect(new Fraction(-7n, 2n).floor()).toBe(-4n);
  });
});
