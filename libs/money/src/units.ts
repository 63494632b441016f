// The only place msat and sats are converted: wallets pay whole sats, the books keep msat.
export const MSAT_PER_SAT = 1000n;

// An amount of msat as people and APIs write it: a decimal string, no sign, no leading zeros, up to 19 digits.
export const MSAT_DECIMAL = /^(0|[1-9][0-9]{0,18})$/;

export const satsToMsat = (sats: number | bigint): bigint => BigInt(sats) * MSAT_PER_SAT;

// The whole sats in an msat amount, and the msat left below one sat.
export function splitWholeSats(msat: bigint): { sats: bigint; remainderMsat: bigint } {
  if (msat < 0n) throw new RangeError(`negative amount: ${msat} msat`);
  return { sats: msat / MSAT_PER_SAT, remainderMsat: msat % MSAT_PER_SAT };
}

// A keysend's amount as the wallet takes it: a safe whole number of sats.
export function satsForWallet(sats: bigint): number {
  if (sats <= 0n || sats > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`cannot pay ${sats} sats`);
  return Number(sats);
}

export const msatForWallet = (sats: number | bigint): number => Number(satsToMsat(sats));

// A routing fee reported in msat, as the whole sats recorded (rounded up: never under-report a cost).
export const feeSatsFromMsat = (msat: number): number => Math.ceil(msat / Number(MSAT_PER_SAT));

// Listening is timed in whole milliseconds. Apps send seconds as JSON numbers, often with a player's float noise
// (1830.4170068027211, 9.985000000000014): the number's decimal text as JavaScript prints it (the shortest that reads
// back as the same number, exponent included) is rounded to whole milliseconds, half up (0.0005 s is 1 ms), in
// integers only: the same number always gives the same milliseconds.
const MS_DIGITS = 3;

// Below this many milliseconds, a product seconds x 1000 that is a whole number is within far less than half a
// millisecond of the decimal text's exact value, so it is that value rounded (and 2^40 ms is 34 years).
const EXACT_PRODUCT_MS = 2 ** 40;

export function wholeMilliseconds(seconds: number): bigint {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`not a non-negative number of seconds: ${seconds}`);
  // Most apps send whole seconds or at most 3 decimals: no text to read (a player's float noise takes the text path).
  const product = seconds * 1000;
  if (Number.isInteger(product) && product < EXACT_PRODUCT_MS) return BigInt(product);
  return millisecondsOfText(seconds);
}

// wholeMilliseconds read off the number's decimal text (exported for the test that holds the fast path to it).
export function millisecondsOfText(seconds: number): bigint {
  const [, whole, fraction = '', exponent = '0'] = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(String(seconds))!;
  // seconds = digits x 10^-scale; milliseconds = digits x 10^(3 - scale).
  const digits = BigInt(whole + fraction);
  const shift = MS_DIGITS - fraction.length + Number(exponent);
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const unit = 10n ** BigInt(-shift);
  return (digits + unit / 2n) / unit;
}
