// Exact rational arithmetic on bigints, reduced at every step: the tests' reference for the split, which the
// split itself avoids (its fractions grow with every distinct denominator; see ../fraction.ts).
const abs = (n: bigint): bigint => (n < 0n ? -n : n);
const gcd = (a: bigint, b: bigint): bigint => {
  let [x, y] = [abs(a), abs(b)];
  while (y) [x, y] = [y, x % y];
  return x;
};

export class Fraction {
  readonly n: bigint;
  readonly d: bigint;

  constructor(n: bigint, d: bigint = 1n) {
    if (d === 0n) throw new RangeError('zero denominator');
    const sign = d < 0n ? -1n : 1n;
    const g = gcd(n, d) || 1n;
    this.n = (sign * n) / g;
    this.d = abs(d) / g;
  }

  static readonly ZERO = new Fraction(0n);

  // The exact value of a JavaScript number as the decimal it is written as (33.33 -> 3333/100), so a split the
  // app sent as a decimal is used as that decimal.
  static fromDecimal(value: number): Fraction {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    const [mantissa, exponentText] = String(value).toLowerCase().split('e') as [string, string | undefined];
    const [whole, fraction = ''] = mantissa.split('.') as [string, string | undefined];
    const exponent = Number(exponentText ?? 0) - fraction.length;
    const digits = BigInt(`${whole}${fraction}`);
    return exponent >= 0 ? new Fraction(digits * 10n ** BigInt(exponent)) : new Fraction(digits, 10n ** BigInt(-exponent));
  }

  add(other: Fraction): Fraction {
    return new Fraction(this.n * other.d + other.n * this.d, this.d * other.d);
  }

  sub(other: Fraction): Fraction {
    return new Fraction(this.n * other.d - other.n * this.d, this.d * other.d);
  }

  mul(other: Fraction): Fraction {
    return new Fraction(this.n * other.n, this.d * other.d);
  }

  div(other: Fraction): Fraction {
    return new Fraction(this.n * other.d, this.d * other.n);
  }

  compare(other: Fraction): number {
    const diff = this.n * other.d - other.n * this.d;
    return diff === 0n ? 0 : diff < 0n ? -1 : 1;
  }

  floor(): bigint {
    const q = this.n / this.d;
    return this.n < 0n && q * this.d !== this.n ? q - 1n : q;
  }

  // Exact decimal text of a fraction whose denominator divides a power of ten (every Fraction.fromDecimal sum).
  toDecimal(): string {
    let places = 0;
    while (10n ** BigInt(places) % this.d !== 0n) {
      if (++places > 400) throw new RangeError('not a terminating decimal');
    }
    const scaled = abs(this.n * (10n ** BigInt(places) / this.d))
      .toString()
      .padStart(places + 1, '0');
    const whole = scaled.slice(0, scaled.length - places);
    const fraction = scaled.slice(scaled.length - places).replace(/0+$/, '');
    return `${this.n < 0n ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
  }

  static sum(values: Fraction[]): Fraction {
    return values.reduce((total, value) => total.add(value), Fraction.ZERO);
  }
}
