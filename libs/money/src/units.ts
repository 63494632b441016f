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
