import { eventAmountMsat, splitListening } from './split.js';
import { pubkey, recipient, valueBlock } from './testing/value-builders.js';
import { adversarialBlock, worstAllowedBlock } from './testing/adversarial.js';
import { Fraction } from './testing/fraction.js';
import { parseValueBlock, type ValueBlock, type ValueBlockInput } from './value-block.js';

const block = (input: ValueBlockInput) => {
  const parsed = parseValueBlock(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
};

// name -> msat, for readable expectations
const split = (amountMsat: bigint, input: ValueBlockInput, position = 0, seconds = 60) =>
  Object.fromEntries(
    splitListening({ amountMsat, position, seconds, value: block(input) }).map((a) => [
      `${a.recipient.name}${a.remoteItemGuid ? `@${a.remoteItemGuid}` : ''}`,
      a.amountMsat,
    ]),
  );

describe('eventAmountMsat', () => {
  it('is floor(satsPerMinute * seconds * 1000 / 60)', () => {
    expect(eventAmountMsat(50, 60)).toBe(50_000n);
    expect(eventAmountMsat(7, 10)).toBe(1_166n); // 1166.67 msat: the fraction of a msat is never owed
    expect(eventAmountMsat(100_000, 3_600)).toBe(6_000_000_000n);
    expect(eventAmountMsat(1, 1)).toBe(16n);
  });

  it('rejects fractions of sats and seconds that are not a non-negative number; times any other in whole milliseconds', () => {
    expect(() => eventAmountMsat(1.5, 60)).toThrow(RangeError);
    for (const seconds of [-1, -0.0001, Number.NaN, Infinity]) expect(() => eventAmountMsat(60, seconds)).toThrow(RangeError);
    // At 60 sats per minute a millisecond is worth 1 msat: the amount is the milliseconds.
    expect(
      [1e-300, 5e-324, 0.0000001, 0.1 + 0.2, 3599.9999999999995, 9.985000000000014, 1830.4170068027211, 1e21, 1.5e-3].map((s) => eventAmountMsat(60, s)),
    ).toEqual([0n, 0n, 0n, 300n, 3_600_000n, 9_985n, 1_830_417n, 10n ** 24n, 2n]);
  });

  // The one rule: seconds rounded to whole milliseconds, half up, from the decimal text; msat = floor(spm x ms / 60).
  it.each([
    [60, 0.5, 500n], // 500 ms at 1 sat per second
    [60, 0.0005, 1n], // half a millisecond rounds up to 1 ms
    [60, 0.000499, 0n], // just under half rounds down
    [60, 1.0015, 1_002n],
    [60, 1.001499, 1_001n],
    [7, 10.25, 1_195n], // 7 x 10250 / 60 = 1195.83: floored
    [100_000, 3599.999999, 6_000_000_000n], // rounds to 3600000 ms
    [100_000, 3599.9994, 5_999_998_333n], // 3599999 ms
    [60, -0, 0n],
  ])('satsPerMinute %p for %p s is %p msat', (satsPerMinute, seconds, msat) => {
    expect(eventAmountMsat(satsPerMinute, seconds)).toBe(msat);
  });

  it('gives whole seconds the amounts they had before decimals: floor(spm x s x 1000 / 60)', () => {
    for (const satsPerMinute of [1, 7, 13, 59, 61, 100_000]) {
      for (const seconds of [1, 2, 7, 59, 61, 599, 3_600]) {
        expect(eventAmountMsat(satsPerMinute, seconds)).toBe((BigInt(satsPerMinute) * BigInt(seconds) * 1000n) / 60n);
      }
    }
  });
});

describe('splitListening with decimal positions and lengths (players report fractions of seconds)', () => {
  const segment = (startTime: number, duration: number) => ({
    startTime,
    duration,
    remotePercentage: 100,
    remoteItemGuid: 'song',
    recipients: [recipient(9, 1, { name: 'Artist' })],
  });
  const host = [recipient(1, 1, { name: 'Host' })];

  it('selects the time split by millisecond: a listening from 29.5 s for 1 s is half before, half inside a split at 30 s', () => {
    expect(split(1_000n, valueBlock(host, { timeSplits: [segment(30, 10)] }), 29.5, 1)).toEqual({ Host: 500n, 'Artist@song': 500n });
  });

  it('a decimal position entirely inside a split pays the split only; just past its end pays the host only', () => {
    const timeSplits = [segment(30, 10)];
    expect(split(1_000n, valueBlock(host, { timeSplits }), 30.25, 9.75)).toEqual({ 'Artist@song': 1_000n });
    expect(split(1_000n, valueBlock(host, { timeSplits }), 40, 0.5)).toEqual({ Host: 1_000n });
    expect(split(1_000n, valueBlock(host, { timeSplits }), 39.999, 0.002)).toEqual({ Host: 500n, 'Artist@song': 500n });
  });

  it('cuts at a fractional split edge, exactly (startTime 10.5 s, listening 10 s to 12 s: 1.5 s inside)', () => {
    expect(split(4_000n, valueBlock(host, { timeSplits: [segment(10.5, 5)] }), 10, 2)).toEqual({ Host: 1_000n, 'Artist@song': 3_000n });
  });

  it('splits whole-second listening exactly as before when the split edges are whole seconds', () => {
    const timeSplits = [segment(60, 60)];
    expect(split(120_000n, valueBlock(host, { timeSplits }), 0, 120)).toEqual({ Host: 60_000n, 'Artist@song': 60_000n });
    expect(split(120_000n, valueBlock(host, { timeSplits }), 59.5, 1)).toEqual({ Host: 60_000n, 'Artist@song': 60_000n });
  });
});

describe('splitListening: the spec worked examples', () => {
  it('splits 50/40/10 of 100 sats as 50/40/10 sats', () => {
    expect(split(100_000n, valueBlock([recipient(1, 50), recipient(2, 40), recipient(3, 10)]))).toEqual({
      R1: 50_000n,
      R2: 40_000n,
      R3: 10_000n,
    });
  });

  it('treats splits as shares: 190/152/38 gives the same 50/40/10', () => {
    expect(split(100_000n, valueBlock([recipient(1, 190), recipient(2, 152), recipient(3, 38)]))).toEqual({
      R1: 50_000n,
      R2: 40_000n,
      R3: 10_000n,
    });
  });

  it('splits a 30-minute batch of 3000 sats as 1500/1200/300 sats', () => {
    const amount = eventAmountMsat(100, 1_800);
    expect(amount).toBe(3_000_000n);
    expect(split(amount, valueBlock([recipient(1, 50), recipient(2, 40), recipient(3, 10)]), 0, 1_800)).toEqual({
      R1: 1_500_000n,
      R2: 1_200_000n,
      R3: 300_000n,
    });
  });

  it('gives a single recipient everything whatever its split', () => {
    expect(split(12_345n, valueBlock([recipient(1, 3)]))).toEqual({ R1: 12_345n });
  });

  it('takes fee recipients off the top: 1000 sats, Host 60, Guest 40, App 5 (fee) -> App 50, Host 570, Guest 380', () => {
    const input = valueBlock([recipient(1, 60, { name: 'Host' }), recipient(2, 40, { name: 'Guest' }), recipient(3, 5, { name: 'App', fee: true })]);
    expect(split(1_000_000n, input)).toEqual({ App: 50_000n, Host: 570_000n, Guest: 380_000n });
  });

  it('pays a time split: 100 sats in a remotePercentage-90 segment -> App 5, Artist 85.5, Host 4.75, Cohost 4.75', () => {
    const input = valueBlock([recipient(1, 50, { name: 'Host' }), recipient(2, 50, { name: 'Cohost' }), recipient(3, 5, { name: 'App', fee: true })], {
      timeSplits: [{ startTime: 60, duration: 120, remotePercentage: 90, remoteItemGuid: 'song', recipients: [recipient(4, 1, { name: 'Artist' })] }],
    });
    expect(split(100_000n, input, 60, 60)).toEqual({ App: 5_000n, 'Artist@song': 85_500n, Host: 4_750n, Cohost: 4_750n });
  });
});

describe('splitListening: rounding', () => {
  it('hands the msat left by flooring to the largest remainders, earlier recipient first on ties', () => {
    expect(split(100n, valueBlock([recipient(1, 1), recipient(2, 1), recipient(3, 1)]))).toEqual({ R1: 34n, R2: 33n, R3: 33n });
    expect(split(2n, valueBlock([recipient(1, 1), recipient(2, 1), recipient(3, 1)]))).toEqual({ R1: 1n, R2: 1n });
  });

  it('uses decimal splits exactly as written', () => {
    expect(split(10_000n, valueBlock([recipient(1, 0.1), recipient(2, 0.2), recipient(3, 0.7)]))).toEqual({
      R1: 1_000n,
      R2: 2_000n,
      R3: 7_000n,
    });
  });

  it('accrues a 1% split to the msat (only a share below 1 msat goes to a larger remainder)', () => {
    expect(split(16n, valueBlock([recipient(1, 99), recipient(2, 1)]), 0, 1)).toEqual({ R1: 16n });
    const perMinute = split(eventAmountMsat(1, 60), valueBlock([recipient(1, 99), recipient(2, 1)]));
    expect(perMinute).toEqual({ R1: 990n, R2: 10n });
  });
});

describe('splitListening: recipients', () => {
  it('never merges two wallets on one custodial node that differ by customValue', () => {
    const input = valueBlock([
      recipient(1, 50, { name: 'Alice', address: pubkey(9), customKey: '696969', customValue: 'alice' }),
      recipient(2, 50, { name: 'Bob', address: pubkey(9), customKey: '696969', customValue: 'bob' }),
    ]);
    expect(split(1_000n, input)).toEqual({ Alice: 500n, Bob: 500n });
  });

  it('gives non-fee recipients nothing when fees take 100%', () => {
    expect(split(1_000n, valueBlock([recipient(1, 10), recipient(2, 100, { fee: true })]))).toEqual({ R2: 1_000n });
  });
});

describe('splitListening: value time splits', () => {
  const host = recipient(1, 1, { name: 'Host' });
  const artist = (n: number, item: string, startTime: number, duration: number, remotePercentage = 100) => ({
    startTime,
    duration,
    remotePercentage,
    remoteFeedGuid: 'music-feed',
    remoteItemGuid: item,
    recipients: [recipient(n, 1, { name: 'Artist' })],
  });

  it('pays each second by the block active at that second, across a segment boundary', () => {
    // 120 s from position 60: 60 s before the song (default block), 60 s inside it.
    const input = valueBlock([host], { timeSplits: [artist(2, 'song', 120, 240)] });
    expect(split(120_000n, input, 60, 120)).toEqual({ Host: 60_000n, 'Artist@song': 60_000n });
  });

  it('uses the default block outside every segment', () => {
    const input = valueBlock([host], { timeSplits: [artist(2, 'song', 1_000, 60)] });
    expect(split(60_000n, input, 0, 60)).toEqual({ Host: 60_000n });
  });

  it('lets the segment that starts later win where segments overlap', () => {
    // song-a covers 0..120, song-b 60..90; listening 0..120
    const input = valueBlock([host], { timeSplits: [artist(2, 'a', 0, 120), artist(3, 'b', 60, 30)] });
    const result = splitListening({ amountMsat: 120_000n, position: 0, seconds: 120, value: block(input) });
    expect(result.map((a) => [a.remoteItemGuid, a.amountMsat])).toEqual([
      ['a', 90_000n],
      ['b', 30_000n],
    ]);
  });

  it('remembers which remote feed and item each amount was for', () => {
    const input = valueBlock([host], { timeSplits: [artist(2, 'song', 0, 60, 50)] });
    const [hostShare, artistShare] = splitListening({ amountMsat: 1_000n, position: 0, seconds: 60, value: block(input) });
    expect(hostShare).toMatchObject({ amountMsat: 500n });
    expect(hostShare!.remoteFeedGuid).toBeUndefined();
    expect(artistShare).toMatchObject({ amountMsat: 500n, remoteFeedGuid: 'music-feed', remoteItemGuid: 'song' });
  });

  it('conserves every msat across boundaries that split it unevenly', () => {
    const input = valueBlock([recipient(1, 3), recipient(2, 7), recipient(5, 5, { fee: true })], {
      timeSplits: [artist(3, 'x', 7, 11, 33), artist(4, 'y', 13, 5, 71)],
    });
    const result = splitListening({ amountMsat: 1_001n, position: 3, seconds: 19, value: block(input) });
    expect(result.reduce((sum, a) => sum + a.amountMsat, 0n)).toBe(1_001n);
  });

  it('clamps remotePercentage to 0..100, as the namespace says', () => {
    const over = valueBlock([host], { timeSplits: [artist(2, 'song', 0, 60, 150)] });
    expect(split(1_000n, over)).toEqual({ 'Artist@song': 1_000n });
    const under = valueBlock([host], { timeSplits: [artist(2, 'song', 0, 60, -5)] });
    expect(split(1_000n, under)).toEqual({ Host: 1_000n });
  });
});

describe('splitListening: bounded cost', () => {
  it.each([
    ['huge', 5],
    ['huge', 10],
    ['tiny', 5],
    ['tiny', 10],
  ] as const)("refuses issue 20's %s splits over 100 recipients and %i time splits, naming the split rule", (kind, timeSplits) => {
    const parsed = parseValueBlock(adversarialBlock(kind, timeSplits));
    expect(parsed.ok).toBe(false);
    const issues = parsed.ok ? [] : parsed.issues;
    // Every split of the default block breaks the rule (the time splits' recipients may be reported too).
    for (let i = 0; i < 100; i++) {
      expect(issues).toContainEqual({
        path: `recipients[${i}].split`,
        message: expect.stringMatching(/^\S+ is not a decimal from 0 to 1000000 with at most 6 decimal places$/),
      });
    }
  });

  // The ledger sets an event aside when its split throws: a block stored before the rules costs no time.
  it('refuses a block stored before the rules, naming the rule or the limit', () => {
    const listening = (value: unknown) => ({ amountMsat: 1_000n, position: 0, seconds: 60, value: value as ValueBlock });
    const stored = block(valueBlock([recipient(1, 1), recipient(2, 1)]));
    const huge = { ...stored, recipients: [stored.recipients[0]!, { ...stored.recipients[1]!, split: 1e300 }] };
    expect(() => splitListening(listening(huge))).toThrow('split 1e+300 is not a decimal from 0 to 1000000 with at most 6 decimal places');
    const wide = { ...stored, recipients: Array.from({ length: 301 }, () => stored.recipients[0]!) };
    expect(() => splitListening(listening(wide))).toThrow('301 recipients in the block; at most 300 are allowed');
  });

  it('splits the worst block the limits allow exactly: every msat, each share floored or ceiled', () => {
    const value = block(worstAllowedBlock(3_600));
    const amountMsat = 6_000_000_000n - 7n;
    const result = splitListening({ amountMsat, position: 0, seconds: 3_600, value });
    expect(result.reduce((sum, a) => sum + a.amountMsat, 0n)).toBe(amountMsat);
    // The reference, in reduced fractions, segment by segment (each segment is one whole run of the listening).
    const hundred = new Fraction(100n);
    const exact = new Map<string, Fraction>();
    const add = (key: string, f: Fraction) => exact.set(key, (exact.get(key) ?? Fraction.ZERO).add(f));
    const byShares = (pool: Fraction, list: readonly { address: string; split: number }[]) => {
      const total = Fraction.sum(list.map((r) => Fraction.fromDecimal(r.split)));
      for (const r of list) add(r.address, pool.mul(Fraction.fromDecimal(r.split)).div(total));
    };
    for (const segment of value.timeSplits) {
      const pool = new Fraction(amountMsat).mul(new Fraction(BigInt(segment.duration), 3_600n));
      const remote = pool.mul(Fraction.fromDecimal(segment.remotePercentage)).div(hundred);
      byShares(pool.sub(remote), value.recipients);
      byShares(remote, segment.recipients);
    }
    expect(result).toHaveLength(exact.size);
    for (const a of result) {
      const share = exact.get(a.recipient.address)!;
      expect([share.floor(), share.floor() + 1n]).toContain(a.amountMsat);
    }
  });
});
