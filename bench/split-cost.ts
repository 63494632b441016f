// The split's cost per event, in process: validating a value block (as the api does) and splitting an amount
// among its recipients (as the worker does), for the worst block the limits allow and for a plain one.
import { parseValueBlock, splitListening, type ValueBlockInput } from '@splitstream/money';

const AMOUNT_MSAT = 6_000_000_000n;
const SECONDS = 3_600;

// Milliseconds per event, the best of five rounds of `rounds` events (the first round warms the JIT).
export function splitMs(input: ValueBlockInput, rounds = 200): { parseMs: number; splitMs: number } {
  const parsed = parseValueBlock(input);
  if (!parsed.ok) throw new Error(`bench block refused: ${JSON.stringify(parsed.issues.slice(0, 3))}`);
  let best = { parseMs: Infinity, splitMs: Infinity };
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) parseValueBlock(input);
    const t1 = performance.now();
    for (let i = 0; i < rounds; i++) splitListening({ amountMsat: AMOUNT_MSAT - BigInt(i), position: 0, seconds: SECONDS, value: parsed.value });
    const t2 = performance.now();
    best = { parseMs: Math.min(best.parseMs, (t1 - t0) / rounds), splitMs: Math.min(best.splitMs, (t2 - t1) / rounds) };
  }
  return best;
}

// Milliseconds to refuse a block (the api's validation of an attack).
export function refuseMs(input: unknown, rounds = 20): number {
  parseValueBlock(input);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) if (parseValueBlock(input).ok) throw new Error('bench block accepted');
  return (performance.now() - started) / rounds;
}
