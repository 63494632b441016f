import fc from 'fast-check';
import { Fraction } from './testing/fraction.js';
import { type Listening, splitListening } from './split.js';
import { pubkey } from './testing/value-builders.js';
import { parseValueBlock, type TimeSplit, type ValueBlock, type ValueRecipient } from './value-block.js';

const RUNS = 3_000;

// Splits as apps send them: whole shares, decimals with up to 3 places, and tiny ones.
const split = fc.oneof(
  fc.integer({ min: 1, max: 1_000 }),
  fc.integer({ min: 1, max: 100_000 }).map((n) => n / 1_000),
  fc.constantFrom(0.01, 0.1, 0.5, 1, 33.33, 99.99),
);

const recipients = (offset: number, maxCount: number) =>
  fc
    .array(split, { minLength: 1, maxLength: maxCount })
    .map((splits) => splits.map((s, i) => ({ name: `R${offset + i}`, type: 'node', address: pubkey(offset + i), split: s })));

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

// Some recipients listed again under a later index (a podcaster and its host on one node; a fee recipient that
// is also a host): `dupes` are [from, to] index pairs whose identity is copied.
const withDuplicates = <T extends { address: string }>(list: T[], dupes: [number, number][]): T[] =>
  list.map((r, i) => {
    const from = dupes.find(([, to]) => to % list.length === i)?.[0];
    return from === undefined || from % list.length >= i ? r : { ...r, address: list[from % list.length]!.address };
  });

const listeningWith = (maxSeconds: number) =>
  fc
    .record({
      defaults: recipients(0, 100),
      dupes: fc.array(fc.tuple(fc.nat(120), fc.nat(120)), { maxLength: 6 }),
      fees,
      segments: timeSplits,
      segmentRecipients: fc.array(recipients(1_000, 5), { minLength: 5, maxLength: 5 }),
      amountMsat: fc.bigInt({ min: 0n, max: 6_000_000_000n }),
      position: fc.integer({ min: 0, max: 4_000 }),
      seconds: fc.integer({ min: 1, max: maxSeconds }),
    })
    .map(({ defaults, dupes, fees, segments, segmentRecipients, ...rest }) => {
      const parsed = parseValueBlock({
        type: 'lightning',
        method: 'keysend',
        recipients: withDuplicates([...defaults.slice(0, 100 - fees.length), ...fees], dupes),
        timeSplits: segments.map((s, i) => ({
          ...s,
          recipients: segmentRecipients[i]!.map((r, j) => ({ ...r, address: pubkey(2_000 + i * 10 + j) })),
        })),
      });
      if (!parsed.ok) throw new Error(`generator made an invalid block: ${JSON.stringify(parsed.issues)}`);
      return { ...rest, value: parsed.value as ValueBlock };
    });
const listening = listeningWith(3_600);

// An independent reference: each content second's money, split by the block active in that second, summed per
// (recipient, remote item); ranks by first listing (default block as listed, then each segment's recipients).
function referenceShares({ amountMsat, position, seconds, value }: Listening) {
  const hundred = new Fraction(100n);
  const key = (r: ValueRecipient, s?: TimeSplit) => JSON.stringify([r.address, r.customKey, r.customValue, s?.remoteFeedGuid, s?.remoteItemGuid]);
  const exact = new Map<string, Fraction>();
  const rank = new Map<string, number>();
  for (const r of value.recipients) if (!rank.has(key(r))) rank.set(key(r), rank.size);
  for (const s of value.timeSplits) for (const r of s.recipients) if (!rank.has(key(r, s))) rank.set(key(r, s), rank.size);
  const add = (k: string, f: Fraction) => exact.set(k, (exact.get(k) ?? Fraction.ZERO).add(f));
  const whole = new Fraction(amountMsat);
  let rest = whole;
  for (const fee of value.recipients.filter((r) => r.fee)) {
    const f = whole.mul(Fraction.fromDecimal(fee.split)).div(hundred);
    add(key(fee), f);
    rest = rest.sub(f);
  }
  const perSecond = rest.div(new Fraction(BigInt(seconds)));
  const byShares = (pool: Fraction, list: ValueRecipient[], s?: TimeSplit) => {
    const total = Fraction.sum(list.map((r) => Fraction.fromDecimal(r.split)));
    for (const r of list) add(key(r, s), pool.mul(Fraction.fromDecimal(r.split)).div(total));
  };
  for (let t = position; t < position + seconds; t++) {
    const active = value.timeSplits.reduce<TimeSplit | undefined>(
      (a, s) => (s.startTime <= t && t < s.startTime + s.duration && (!a || s.startTime >= a.startTime) ? s : a),
      undefined,
    );
    const remote = active ? perSecond.mul(Fraction.fromDecimal(active.remotePercentage)).div(hundred) : Fraction.ZERO;
    byShares(
      perSecond.sub(remote),
      value.recipients.filter((r) => !r.fee),
    );
    if (active) byShares(remote, active.recipients, active);
  }
  return { exact, rank, key };
}

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

  it('gives each recipient the floor or the ceiling of its exact share, ceilings to the largest remainders, ties to the first listed', () => {
    fc.assert(
      fc.property(listeningWith(240), (l) => {
        const { exact, rank, key } = referenceShares(l);
        const paid = new Map(
          splitListening(l).map((a) => [
            key(a.recipient, a.remoteItemGuid === undefined && a.remoteFeedGuid === undefined ? undefined : (a as unknown as TimeSplit)),
            a.amountMsat,
          ]),
        );
        const rows = [...exact.entries()].map(([k, f]) => {
          const got = paid.get(k) ?? 0n;
          const floor = f.floor();
          expect([floor, floor + (f.compare(new Fraction(floor)) === 0 ? 0n : 1n)]).toContain(got);
          return { rank: rank.get(k)!, remainder: f.sub(new Fraction(floor)), up: got > floor };
        });
        expect(paid.size).toBeLessThanOrEqual(exact.size);
        // No share rounded down may rank before one rounded up that has the same or a smaller remainder.
        for (const up of rows.filter((r) => r.up)) {
          for (const down of rows.filter((r) => !r.up && r.remainder.compare(Fraction.ZERO) > 0)) {
            const order = up.remainder.compare(down.remainder);
            expect(order > 0 || (order === 0 && up.rank < down.rank)).toBe(true);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('pays a recipient listed twice the sum of its shares, once', () => {
    const host = { name: 'Podcaster', type: 'node', address: pubkey(1), split: 30 };
    const parsed = parseValueBlock({
      type: 'lightning',
      method: 'keysend',
      recipients: [host, { name: 'Guest', type: 'node', address: pubkey(2), split: 50 }, { ...host, name: 'Hosting company', split: 20 }],
    });
    if (!parsed.ok) throw new Error('invalid');
    const result = splitListening({ amountMsat: 100_000n, position: 0, seconds: 60, value: parsed.value });
    expect(result.map((a) => [a.recipient.name, a.amountMsat])).toEqual([
      ['Podcaster', 50_000n],
      ['Guest', 50_000n],
    ]);
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
