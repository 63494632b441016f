import { apportion, Fraction } from './fraction.js';
import { recipientIdentity, type TimeSplit, type ValueBlock, type ValueRecipient } from './value-block.js';
import { MSAT_PER_SAT } from './units.js';

const HUNDRED = new Fraction(100n);
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
  // As first listed in the value block (a recipient listed twice is paid once, the sum of its shares).
  recipient: ValueRecipient;
  amountMsat: bigint;
  // Set for a time split's recipients: the remote feed/item the money was for.
  remoteFeedGuid?: string;
  remoteItemGuid?: string;
}

// One recipient's exact share of an event, before rounding; `rank` is its place in the tie rule.
export interface ExactShare extends Omit<Allocation, 'amountMsat'> {
  exact: Fraction;
  rank: number;
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
        exact: Fraction.ZERO,
        rank: this.byKey.size,
        ...(segment?.remoteFeedGuid !== undefined && { remoteFeedGuid: segment.remoteFeedGuid }),
        ...(segment?.remoteItemGuid !== undefined && { remoteItemGuid: segment.remoteItemGuid }),
      };
      this.byKey.set(key, share);
    }
    return share;
  }

  add(recipient: ValueRecipient, amount: Fraction, segment?: TimeSplit): void {
    const share = this.entry(recipient, segment);
    share.exact = share.exact.add(amount);
  }

  // `pool` shared among `recipients` in proportion to their splits.
  addProportional(pool: Fraction, recipients: readonly ValueRecipient[], segment?: TimeSplit): void {
    const total = Fraction.sum(recipients.map((r) => Fraction.fromDecimal(r.split)));
    for (const recipient of recipients) this.add(recipient, pool.mul(Fraction.fromDecimal(recipient.split)).div(total), segment);
  }

  list(): ExactShare[] {
    return [...this.byKey.values()];
  }
}

// Each recipient's exact share of a listening amount. Fee recipients take their percentage of the whole first.
// The rest is spread over the listened seconds; in a second inside a time split, remotePercentage of it goes to
// the segment's recipients and the remainder to the default non-fee recipients.
export function exactShares({ amountMsat, position, seconds, value }: Listening): ExactShare[] {
  if (amountMsat < 0n) throw new RangeError('amountMsat must not be negative');
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new RangeError('seconds must be a positive whole number');
  const whole = new Fraction(amountMsat);
  const shares = new Shares(value);
  let rest = whole;
  for (const fee of value.recipients.filter((r) => r.fee)) {
    const amount = whole.mul(Fraction.fromDecimal(fee.split)).div(HUNDRED);
    shares.add(fee, amount);
    rest = rest.sub(amount);
  }
  const defaultRecipients = value.recipients.filter((r) => !r.fee);
  for (const { seconds: length, segment } of runsOf(position, seconds, value.timeSplits)) {
    const pool = rest.mul(new Fraction(BigInt(length), BigInt(seconds)));
    const remote = segment ? pool.mul(Fraction.fromDecimal(segment.remotePercentage)).div(HUNDRED) : Fraction.ZERO;
    shares.addProportional(pool.sub(remote), defaultRecipients);
    if (segment) shares.addProportional(remote, segment.recipients, segment);
  }
  return shares.list();
}

// Splits a listening amount among the value block's recipients, exactly. Each recipient's shares (a recipient
// listed twice, or paid in several runs of one event) are summed exactly first, then all are rounded together,
// once (apportion, ties to the lower rank): the msat add up to amountMsat, each recipient gets the floor or the
// ceiling of its exact share, and the same input gives the same output.
export function splitListening(listening: Listening): Allocation[] {
  const shares = exactShares(listening);
  const amounts = apportion(
    listening.amountMsat,
    shares.map((s) => s.exact),
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
