import { MAX_BLOCK_RECIPIENTS, MAX_RECIPIENTS, MAX_TIME_SPLITS, type ValueBlockInput } from '../value-block.js';
import { recipient, valueBlock } from './value-builders.js';

// Issue 20's attack: splits whose exact fractions grow without bound, over 100 recipients in the default block
// and in each of `timeSplits` time splits.
export const adversarialBlock = (kind: 'huge' | 'tiny', timeSplits: number): ValueBlockInput => {
  const splitOf = (i: number) => (kind === 'huge' ? 1e300 / (i + 1) + 0.123456789 : 1e-300 * (i + 1));
  const list = (offset: number) => Array.from({ length: MAX_RECIPIENTS }, (_, i) => recipient(offset + i, splitOf(i)));
  return valueBlock(list(0), {
    timeSplits: Array.from({ length: timeSplits }, (_, k) => ({ startTime: k * 30, duration: 30, recipients: list(1_000 + k * MAX_RECIPIENTS) })),
  });
};

// The most expensive block the limits allow: every time split (MAX_TIME_SPLITS) with its own split total and
// remotePercentage, all at 6 decimals near MAX_SPLIT, and two recipients shared by the default block and every
// time split (no remote item), so their exact shares draw on every total at once; the rest of the
// MAX_BLOCK_RECIPIENTS in the default block. Listened for `seconds` from 0, crossing every segment.
export const SHARED_PER_SEGMENT = Math.floor((MAX_BLOCK_RECIPIENTS - 1) / (MAX_TIME_SPLITS + 1));
export function worstAllowedBlock(seconds = 3_600): ValueBlockInput {
  // whole.millionths, written exactly (a sum of floats would add digits).
  const decimal = (whole: number, millionths: number) => Number(`${whole}.${String(millionths % 1_000_000).padStart(6, '0')}`);
  const defaults = MAX_BLOCK_RECIPIENTS - MAX_TIME_SPLITS * SHARED_PER_SEGMENT;
  const segment = seconds / MAX_TIME_SPLITS;
  return valueBlock(
    Array.from({ length: Math.min(defaults, MAX_RECIPIENTS) }, (_, i) => recipient(i, decimal(999_999, 999_999 - i * 7_919))),
    {
      timeSplits: Array.from({ length: MAX_TIME_SPLITS }, (_, k) => ({
        startTime: k * segment,
        duration: segment,
        remotePercentage: decimal(99, 1 + k * 104_729),
        recipients: Array.from({ length: SHARED_PER_SEGMENT }, (_, j) => recipient(j, decimal(999_998, 1 + k * 7_907 + j * 6_007))),
      })),
    },
  );
}
