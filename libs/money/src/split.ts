import { apportion, Fraction } from './fraction.js';
import { recipientIdentity, type TimeSplit, type ValueBlock, type ValueRecipient } from './value-block.js';

const HUNDRED = new Fraction(100n);
const MSAT_PER_SAT = 1000n;
const SECONDS_PER_MINUTE = 60n;

// What a listening event is worth: content seconds at the listener's rate (playback speed does not matter).
export function eventAmountMsat(satsPerMinute: number, seconds: number): bigint {
  if (!Number.isSafeInteger(satsPerMinute) || satsPerMinute < 0) throw new RangeError('satsPerMinute must be a whole number');
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError('seconds must be a whole number');
  return (BigInt(satsPerMinute) * BigInt(seconds) * MSAT_PER_SAT) / SECONDS_PER_MINUTE;
}

export interface Listening {
  amountMsat: bigint;
  position: number; // content second where the listening began
  seconds: number; // content seconds listened
  value: ValueBlock;
}

export interface Allocation {
  recipient: ValueRecipient;
  amountMsat: bigint;
  // Set for a time split's recipients: the remote feed/item the money was for.
  remoteFeedGuid?: string;
  remoteItemGuid?: string;
}

interface Run {
  seconds: number;
  segment: TimeSplit | undefined;
}

// Second t is inside a segment when startTime <= t < startTime + duration; where segments overlap, the one that
// starts later wins (on equal starts, the one listed later).
function activeSegment(second: number, segments: readonly TimeSplit[]): TimeSplit | undefined {
  let active: TimeSplit | undefined;
  for (const segment of segments) {
    const inside = segment.startTime <= second && second < segment.startTime + segment.duration;
    if (inside && (!active || segment.startTime >= active.startTime)) active = segment;
  }
  return active;
}

// The listened interval cut where the active block can change, consecutive seconds of one block merged.
function runsOf(position: number, seconds: number, segments: readonly TimeSplit[]): Run[] {
  const end = position + seconds;
  const cuts = new Set([position, end]);
  for (const s of segments) {
    for (const edge of [Math.ceil(s.startTime), Math.ceil(s.startTime + s.duration)]) {
      if (edge > position && edge < end) cuts.add(edge);
    }
  }
  const points = [...cuts].sort((a, b) => a - b);
  const runs: Run[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const segment = activeSegment(points[i]!, segments);
    const length = points[i + 1]! - points[i]!;
    const last = runs.at(-1);
    if (last && last.segment === segment) last.seconds += length;
    else runs.push({ seconds: length, segment });
  }
  return runs;
}

interface Share {
  recipient: ValueRecipient;
  segment?: TimeSplit;
  exact: Fraction;
}

const proportional = (pool: Fraction, recipients: readonly ValueRecipient[], segment?: TimeSplit): Share[] => {
  const total = Fraction.sum(recipients.map((r) => Fraction.fromDecimal(r.split)));
  return recipients.map((recipient) => ({
    recipient,
    segment,
    exact: pool.mul(Fraction.fromDecimal(recipient.split)).div(total),
  }));
};

const allocationKey = (a: Allocation) => JSON.stringify([recipientIdentity(a.recipient), a.remoteFeedGuid, a.remoteItemGuid]);

// Splits a listening amount among the value block's recipients, exactly. Fee recipients take their percentage
// of the whole first. The rest is spread over the listened seconds; in a second inside a time split,
// remotePercentage of it goes to the segment's recipients and the remainder to the default non-fee recipients.
// All exact shares are rounded together once (apportion): the returned msat add up to amountMsat, every
// recipient gets at least the floor of its exact share, and the same input gives the same output.
export function splitListening({ amountMsat, position, seconds, value }: Listening): Allocation[] {
  if (amountMsat < 0n) throw new RangeError('amountMsat must not be negative');
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new RangeError('seconds must be a positive whole number');
  const whole = new Fraction(amountMsat);
  const feeShares = value.recipients
    .filter((r) => r.fee)
    .map((recipient) => ({ recipient, exact: whole.mul(Fraction.fromDecimal(recipient.split)).div(HUNDRED) }));
  const rest = whole.sub(Fraction.sum(feeShares.map((s) => s.exact)));
  const defaultRecipients = value.recipients.filter((r) => !r.fee);
  const runShares = runsOf(position, seconds, value.timeSplits).flatMap(({ seconds: length, segment }) => {
    const pool = rest.mul(new Fraction(BigInt(length), BigInt(seconds)));
    const remote = segment ? pool.mul(Fraction.fromDecimal(segment.remotePercentage)).div(HUNDRED) : Fraction.ZERO;
    return [
      ...proportional(pool.sub(remote), defaultRecipients),
      ...(segment ? proportional(remote, segment.recipients, segment) : []),
    ];
  });
  const shares: Share[] = [...feeShares, ...runShares];
  const amounts = apportion(amountMsat, shares.map((s) => s.exact));

  const merged = new Map<string, Allocation>();
  shares.forEach((share, i) => {
    const allocation: Allocation = {
      recipient: share.recipient,
      amountMsat: amounts[i]!,
      ...(share.segment?.remoteFeedGuid !== undefined && { remoteFeedGuid: share.segment.remoteFeedGuid }),
      ...(share.segment?.remoteItemGuid !== undefined && { remoteItemGuid: share.segment.remoteItemGuid }),
    };
    const key = allocationKey(allocation);
    const existing = merged.get(key);
    if (existing) existing.amountMsat += allocation.amountMsat;
    else merged.set(key, allocation);
  });
  return [...merged.values()].filter((a) => a.amountMsat > 0n);
}
