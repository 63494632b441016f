import fc from 'fast-check';
import { Fraction } from './fraction.js';
import { splitListening } from './split.js';
import { pubkey } from './testing/value-builders.js';
import { parseValueBlock, type ValueBlock } from './value-block.js';

const RUNS = 3_000;

// Splits as apps send them: whole shares, decimals with up to 3 places, and tiny ones.
const split = fc.oneof(
  fc.integer({ min: 1, max: 1_000 }),
  fc.integer({ min: 1, max: 100_000 }).map((n) => n / 1_000),
  fc.constantFrom(0.01, 0.1, 0.5, 1, 33.33, 99.99),
);

const recipients = (offset: number, maxCount: number) =>
  fc.array(split, { minLength: 1, maxLength: maxCount }).map((splits) =>
    splits.map((s, i) => ({ name: `R${offset + i}`, type: 'node', address: pubkey(offset + i), split: s })),
  );

// Fee percentages whose sum never passes 100.
const fees = fc.array(fc.integer({ min: 1, max: 4_000 }), { maxLength: 4 }).map((cents) => {
  let left = 10_000;
  return cents
    .map((c) => {
      const take = Math.min(c, left);
      left -= take;
      return take;
    })
    .filter((c) => c > 0)
    .map((c, i) => ({ name: `F${i}`, type: 'node', address: pubkey(900 + i), split: c / 100, fee: true }));
});

const timeSplits = fc.array(
  fc.record({
    startTime: fc.integer({ min: 0, max: 4_000 }),
    duration: fc.integer({ min: 1, max: 1_000 }),
    remotePercentage: fc.integer({ min: 0, max: 100 }),
    remoteItemGuid: fc.string({ minLength: 1, maxLength: 8 }),
  }),
  { maxLength: 5 },
);

const listening = fc
  .record({
    defaults: recipients(0, 100),
    fees,
    segments: timeSplits,
    segmentRecipients: fc.array(recipients(1_000, 5), { minLength: 5, maxLength: 5 }),
    amountMsat: fc.bigInt({ min: 0n, max: 6_000_000_000n }),
    position: fc.integer({ min: 0, max: 4_000 }),
    seconds: fc.integer({ min: 1, max: 3_600 }),
  })
  .map(({ defaults, fees, segments, segmentRecipients, ...rest }) => {
    const parsed = parseValueBlock({
      type: 'lightning',
      method: 'keysend',
      recipients: [...defaults.slice(0, 100 - fees.length), ...fees],
      timeSplits: segments.map((s, i) => ({
        ...s,
        recipients: segmentRecipients[i]!.map((r, j) => ({ ...r, address: pubkey(2_000 + i * 10 + j) })),
      })),
    });
    if (!parsed.ok) throw new Error(`generator made an invalid block: ${JSON.stringify(parsed.issues)}`);
    return { ...rest, value: parsed.value as ValueBlock };
  });

describe('splitListening properties (fast-check)', () => {
  it('conserves every msat: the parts add up to the amount exactly', () => {
    fc.assert(
      fc.property(listening, (l) => {
        const total = splitListening(l).reduce((sum, a) => sum + a.amountMsat, 0n);
        return total === l.amountMsat;
      }),
      { numRuns: RUNS },
    );
  });

  it('never gives a negative (or zero) amount', () => {
    fc.assert(
      fc.property(listening, (l) => splitListening(l).every((a) => a.amountMsat > 0n)),
      { numRuns: RUNS },
    );
  });

  it('gives every fee recipient at least the floor of its percentage of the whole', () => {
    fc.assert(
      fc.property(listening, (l) => {
        const result = splitListening(l);
        return l.value.recipients
          .filter((r) => r.fee)
          .every((fee) => {
            const floor = new Fraction(l.amountMsat).mul(Fraction.fromDecimal(fee.split)).div(new Fraction(100n)).floor();
            const paid = result.find((a) => a.recipient.address === fee.address)?.amountMsat ?? 0n;
            return paid >= floor;
          });
      }),
      { numRuns: RUNS },
    );
  });

  it('is deterministic: identical input gives identical output', () => {
    fc.assert(
      fc.property(listening, (l) => {
        const copy = { ...l, value: structuredClone(l.value) };
        expect(splitListening(copy)).toEqual(splitListening(l));
      }),
      { numRuns: RUNS },
    );
  });
});
