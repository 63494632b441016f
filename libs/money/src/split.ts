import { apportion, hasBoundedDecimals, MICRO, microUnits, Ratio } from './fraction.js';
import {
  MAX_BLOCK_RECIPIENTS,
  MAX_SPLIT,
  MAX_TIME_SPLITS,
  recipientIdentity,
  SPLIT_RULE,
  type TimeSplit,
  type ValueBlock,
  type ValueRecipient,
} from './value-block.js';
import { MSAT_PER_SAT, wholeMilliseconds } from './units.js';

const HUNDRED = 100n * MICRO; // 100%, in millionths of a percent
const MS_PER_MINUTE = 60_000n;
const MAX_SPLIT_UNITS = BigInt(MAX_SPLIT) * MICRO;

// A split in millionths. Ingestion refuses blocks outside the rules; a block stored before them is refused here,
// so the worker sets its event aside instead of spending unbounded time on it.
function splitUnits(split: number): bigint {
  const units = hasBoundedDecimals(split) ? microUnits(split) : -1n;
  if (units < 0n || units > MAX_SPLIT_UNITS) throw new RangeError(`split ${split} is not ${SPLIT_RULE}`);
  return units;
}

function checkLimits(value: ValueBlock): void {
  const recipients = value.timeSplits.reduce((n, s) => n + s.recipients.length, value.recipients.length);
  if (value.timeSplits.length > MAX_TIME_SPLITS) throw new RangeError(`${value.timeSplits.length} time splits; at most ${MAX_TIME_SPLITS} are allowed`);
  if (recipients > MAX_BLOCK_RECIPIENTS) throw new RangeError(`${recipients} recipients in the block; at most ${MAX_BLOCK_RECIPIENTS} are allowed`);
}

// What a listening event is worth: content time at the listener's rate (playback speed does not matter), in
// whole milliseconds (wholeMilliseconds), floored to the msat: satsPerMinute x ms / 60. Whole seconds give
// satsPerMinute x seconds x 1000 / 60, as before decimals were accepted.
export function eventAmountMsat(satsPerMinute: number, seconds: number): bigint {
  if (!Number.isSafeInteger(satsPerMinute) || satsPerMinute < 0) throw new RangeError('satsPerMinute must be a whole number');
  return (BigInt(satsPerMinute) * MSAT_PER_SAT * wholeMilliseconds(seconds)) / MS_PER_MINUTE;
}

export interface Listening {
  amountMsat: bigint;
  position: number; // content second where the listening began (a decimal, timed in whole milliseconds)
  seconds: number; // content seconds listened (idem)
  value: ValueBlock;
}

export interface Allocation {
  // As first listed in the value block (a recipient listed twice is paid once, the sum of its shares).
  recipient: ValueRecipient;
  amountMsat: bigint;
  // Set for a time split's recipients: the remote feed/item the money was for.
  remoteFeedGuid?: string;
  remoteItemGuid?: string;
}

// One recipient's exact share of an event, before rounding; `rank` is its place in the tie rule.
export interface ExactShare extends Omit<Allocation, 'amountMsat'> {
  exact: Ratio;
  rank: number;
}

interface Run {
  ms: number;
  segment: TimeSplit | undefined;
}

// ceil(seconds x 1000), exactly: a double is n / 2^k, with n and k found by doubling (each doubling is exact).
function ceilMilliseconds(seconds: number): number {
  if (!Number.isFinite(seconds)) return Infinity; // startTime + duration may overflow: such a segment never ends
  let n = seconds;
  let k = 0n;
  while (!Number.isInteger(n)) {
    n *= 2;
    k += 1n;
  }
  const denominator = 2n ** k;
  return Number((BigInt(n) * 1000n + denominator - 1n) / denominator);
}

interface Edges {
  segment: TimeSplit;
  from: number; // first millisecond inside
  to: number; // first millisecond after
}

// Millisecond t is inside a segment when startTime <= t / 1000 < startTime + duration; where segments overlap,
// the one that starts later wins (on equal starts, the one listed later).
function activeSegment(ms: number, segments: readonly Edges[]): TimeSplit | undefined {
  let active: TimeSplit | undefined;
  for (const { segment, from, to } of segments) {
    if (from <= ms && ms < to && (!active || segment.startTime >= active.startTime)) active = segment;
  }
  return active;
}

// The listened interval (in milliseconds) cut where the active block can change, consecutive runs of one block
// merged.
function runsOf(positionMs: number, lengthMs: number, segments: readonly TimeSplit[]): Run[] {
  const end = positionMs + lengthMs;
  const edges = segments.map((segment) => ({
    segment,
    from: ceilMilliseconds(segment.startTime),
    to: ceilMilliseconds(segment.startTime + segment.duration),
  }));
  const cuts = new Set([positionMs, end]);
  for (const { from, to } of edges) {
    for (const edge of [from, to]) if (edge > positionMs && edge < end) cuts.add(edge);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const runs: Run[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const segment = activeSegment(points[i]!, edges);
    const length = points[i + 1]! - points[i]!;
    const last = runs.at(-1);
    if (last && last.segment === segment) last.ms += length;
    else runs.push({ ms: length, segment });
  }
  return runs;
}

const shareKey = (recipient: ValueRecipient, segment?: TimeSplit) =>
  JSON.stringify([recipientIdentity(recipient), segment?.remoteFeedGuid ?? null, segment?.remoteItemGuid ?? null]);

// Exact shares keyed by (recipient, remote item), in the order of first listing: the default block's
// recipients as listed (fee or not), then each time split's recipients, segment by segment.
class Shares {
  private readonly byKey = new Map<string, ExactShare>();

  constructor(value: ValueBlock) {
    for (const recipient of value.recipients) this.entry(recipient);
    for (const segment of value.timeSplits) for (const recipient of segment.recipients) this.entry(recipient, segment);
  }

  private entry(recipient: ValueRecipient, segment?: TimeSplit): ExactShare {
    const key = shareKey(recipient, segment);
    let share = this.byKey.get(key);
    if (!share) {
      share = {
        recipient,
        exact: new Ratio(),
        rank: this.byKey.size,
        ...(segment?.remoteFeedGuid !== undefined && { remoteFeedGuid: segment.remoteFeedGuid }),
        ...(segment?.remoteItemGuid !== undefined && { remoteItemGuid: segment.remoteItemGuid }),
      };
      this.byKey.set(key, share);
    }
    return share;
  }

  // `pool` (over the split's scale) shared among `recipients` in proportion to their splits.
  addProportional(pool: bigint, recipients: readonly ValueRecipient[], segment?: TimeSplit): void {
    if (pool === 0n) return;
    const splits = recipients.map((r) => splitUnits(r.split));
    const total = splits.reduce((a, b) => a + b, 0n);
    if (total === 0n) throw new RangeError('no recipient has a split above 0');
    recipients.forEach((recipient, i) => this.add(recipient, pool * splits[i]!, total, segment));
  }

  add(recipient: ValueRecipient, n: bigint, d: bigint, segment?: TimeSplit): void {
    this.entry(recipient, segment).exact.add(n, d);
  }

  list(): ExactShare[] {
    return [...this.byKey.values()];
  }
}

// Each recipient's exact share of a listening amount, as a Ratio over `scale`. Fee recipients take their
// percentage of the whole first. The rest is spread over the listened milliseconds; in a millisecond inside a time split,
// remotePercentage of it goes to the segment's recipients and the remainder to the default non-fee recipients.
// All in integers: with percentages p (millionths of a percent, HUNDRED is 100%), listened milliseconds S and split
// totals T, each part is amount * (integer) / (HUNDRED^2 * S * T), so scale is HUNDRED^2 * S and each Ratio's
// denominator is the product of the distinct totals T it draws on.
export function exactShares({ amountMsat, position, seconds, value }: Listening): { shares: ExactShare[]; scale: bigint } {
  if (amountMsat < 0n) throw new RangeError('amountMsat must not be negative');
  const S = wholeMilliseconds(seconds);
  if (S <= 0n) throw new RangeError('seconds must be at least one millisecond');
  checkLimits(value);
  const scale = HUNDRED * HUNDRED * S;
  const shares = new Shares(value);
  let feeTotal = 0n;
  for (const fee of value.recipients.filter((r) => r.fee)) {
    const percent = splitUnits(fee.split);
    shares.add(fee, amountMsat * percent * HUNDRED * S, 1n);
    feeTotal += percent;
  }
  const rest = amountMsat * (HUNDRED - feeTotal);
  // Seconds of each block, weighted by the part of the rest it gives away: local (default block) and remote.
  let localWeight = 0n;
  const remoteWeight = new Map<TimeSplit, bigint>();
  for (const { ms: length, segment } of runsOf(Number(wholeMilliseconds(position)), Number(S), value.timeSplits)) {
    const remote = segment ? microUnits(segment.remotePercentage) : 0n;
    localWeight += BigInt(length) * (HUNDRED - remote);
    if (segment) remoteWeight.set(segment, (remoteWeight.get(segment) ?? 0n) + BigInt(length) * remote);
  }
  shares.addProportional(
    rest * localWeight,
    value.recipients.filter((r) => !r.fee),
  );
  for (const [segment, weight] of remoteWeight) shares.addProportional(rest * weight, segment.recipients, segment);
  return { shares: shares.list(), scale };
}

// Splits a listening amount among the value block's recipients, exactly. Each recipient's shares (a recipient
// listed twice, or paid in several runs of one event) are summed exactly first, then all are rounded together,
// once (apportion, ties to the lower rank): the msat add up to amountMsat, each recipient gets the floor or the
// ceiling of its exact share, and the same input gives the same output.
export function splitListening(listening: Listening): Allocation[] {
  const { shares, scale } = exactShares(listening);
  const amounts = apportion(
    listening.amountMsat,
    shares.map((s) => s.exact),
    scale,
  );
  return shares
    .map((share, i): Allocation => ({
      recipient: share.recipient,
      amountMsat: amounts[i]!,
      ...(share.remoteFeedGuid !== undefined && { remoteFeedGuid: share.remoteFeedGuid }),
      ...(share.remoteItemGuid !== undefined && { remoteItemGuid: share.remoteItemGuid }),
    }))
    .filter((a) => a.amountMsat > 0n);
}
