import { DECIMAL_PLACES, hasBoundedDecimals, MICRO, microUnits } from './fraction.js';

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

// Listening is timed in whole milliseconds. Apps send seconds as JSON numbers with at most 6 decimal places (as
// JavaScript prints the number: 1e-7 and 3599.9999999999995 are not of that form and are refused); the decimal
// text is rounded to whole milliseconds, half up (0.0005 s is 1 ms), without floating-point arithmetic.
const MS_PER_SECOND = 1000n;

export function wholeMilliseconds(seconds: number): bigint {
  if (!hasBoundedDecimals(seconds) || seconds < 0) throw new RangeError(`not a number of seconds with at most ${DECIMAL_PLACES} decimal places: ${seconds}`);
  const micro = microUnits(seconds);
  const perMs = MICRO / MS_PER_SECOND;
  return (micro + perMs / 2n) / perMs;
}
