import type { TimeSplit, ValueBlock, ValueRecipient } from '@splitstream/money';

// A <podcast:valueTimeSplit> with a <podcast:remoteItem>, as podcast-partytime gives it.
export interface RemoteSplit {
  startTime: number;
  duration: number;
  remoteStartTime: number;
  remotePercentage: number;
}

// The segments a remote item's resolved block adds to the episode's timeline (README: value blocks by reference):
// - the whole segment pays the remote block's non-fee recipients remotePercentage of the money (the episode's own
//   fee recipients are paid first, as in every segment; the remote block's fee recipients, in its own time splits
//   too, are not paid, and a segment left without a positive split is dropped);
// - where the remote block has time splits of its own inside [remoteStartTime, remoteStartTime + duration), each
//   becomes a segment of the episode at the same offset, with the outer remotePercentage and its own recipients
//   and remote GUIDs (the innermost item playing is paid). They come after the whole segment, and a later start
//   wins where segments overlap (libs/money split rule), so they take precedence inside it.
// Every recipient carries the remote feed/item GUIDs of the item whose block named it (bLIP-10 remote_*_guid).
export function remoteSegments(split: RemoteSplit, remote: ValueBlock, guids: { feedGuid: string; itemGuid?: string }): TimeSplit[] {
  const segments: TimeSplit[] = [];
  const add = (startTime: number, duration: number, recipients: ValueRecipient[], feedGuid: string, itemGuid: string | undefined) => {
    const paid = recipients.filter((r) => !r.fee);
    if (!paid.some((r) => r.split > 0)) return;
    segments.push({
      startTime,
      duration,
      remotePercentage: clampPercent(split.remotePercentage),
      remoteFeedGuid: feedGuid,
      ...(itemGuid !== undefined && { remoteItemGuid: itemGuid }),
      recipients: paid,
    });
  };
  add(split.startTime, split.duration, remote.recipients, guids.feedGuid, guids.itemGuid);
  const windowStart = split.remoteStartTime;
  const windowEnd = split.remoteStartTime + split.duration;
  for (const nested of remote.timeSplits) {
    const from = Math.max(nested.startTime, windowStart);
    const to = Math.min(nested.startTime + nested.duration, windowEnd);
    if (!(to > from)) continue;
    const feedGuid = nested.remoteFeedGuid ?? guids.feedGuid;
    const itemGuid = nested.remoteFeedGuid !== undefined ? nested.remoteItemGuid : guids.itemGuid;
    add(split.startTime + (from - windowStart), to - from, nested.recipients, feedGuid, itemGuid);
  }
  return segments;
}

const clampPercent = (value: number) => (Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 100);
