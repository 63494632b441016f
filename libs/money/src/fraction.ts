// Splits and percentages are decimals with at most 6 places, used as integer millionths: every share of a payment
// is then a bigint over a bounded denominator, computed without floating point and without fractions that grow.
export const DECIMAL_PLACES = 6;
export const MICRO = 1_000_000n;
// As JavaScript prints the number (its shortest round-trip form): 1e-7 and 1e+300 are not of this form.
const DECIMAL_FORM = /^-?[0-9]+(\.[0-9]{1,6})?$/;

export const hasBoundedDecimals = (value: number): boolean => Number.isFinite(value) && DECIMAL_FORM.test(String(value));

// The number in millionths, exactly as it is written (33.33 -> 33_330_000n).
export function microUnits(value: number): bigint {
  if (!hasBoundedDecimals(value)) throw new RangeError(`not a decimal with at most ${DECIMAL_PLACES} places: ${value}`);
  const [whole, fraction = ''] = String(value).replace('-', '').split('.') as [string, string | undefined];
  const micro = BigInt(whole) * MICRO + BigInt(fraction.padEnd(DECIMAL_PLACES, '0'));
  return value < 0 ? -micro : micro;
}

// An exact non-negative amount n / (d * scale), never reduced: `scale` is common to all the shares of one split,
// `d` the product of the distinct split totals the share draws on, so adding costs no gcd.
export class Ratio {
  n = 0n;
  d = 1n;

  add(n: bigint, d: bigint): void {
    if (n === 0n) return;
    if (this.d % d === 0n) {
      this.n += n * (this.d / d);
    } else {
      this.n = this.n * d + n * this.d;
      this.d *= d;
    }
  }
}

// Whole msat for exact shares (Ratio over `scale`) that add up to `total`: each share is floored, and the msat
// left over go one each to the largest remainders (ties: the earlier share), so the parts add up exactly.
export function apportion(total: bigint, shares: readonly Ratio[], scale: bigint): bigint[] {
  const floors = shares.map((s) => s.n / (s.d * scale));
  const remainders = shares.map((s, i) => s.n - floors[i]! * s.d * scale);
  let leftover = total - floors.reduce((a, b) => a + b, 0n);
  // The floors of exact shares of `total` fall short of it by less than one msat per share.
  if (leftover < 0n || leftover >= BigInt(Math.max(1, shares.length))) throw new RangeError('shares do not add up to the total');
  // r_a / (d_a * scale) against r_b / (d_b * scale): scale cancels.
  const order = shares
    .map((_, i) => i)
    .filter((i) => remainders[i]! > 0n)
    .sort((a, b) => {
      const diff = remainders[b]! * shares[a]!.d - remainders[a]! * shares[b]!.d;
      return diff === 0n ? a - b : diff < 0n ? -1 : 1;
    });
  for (const index of order) {
    if (leftover === 0n) break;
    floors[index]! += 1n;
    leftover -= 1n;
  }
  return floors;
}
