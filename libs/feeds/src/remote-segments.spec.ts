import type { ValueBlock, ValueRecipient } from '@splitstream/money';
import { remoteSegments } from './remote-segments.js';

const recipient = (address: string, split: number, fee = false): ValueRecipient => ({ type: 'node', address, split, fee });
const song: ValueBlock = {
  type: 'lightning',
  method: 'keysend',
  recipients: [recipient('artist', 80), recipient('band', 20), recipient('label-fee', 5, true)],
  timeSplits: [],
};
const split = { startTime: 60, duration: 30, remoteStartTime: 12, remotePercentage: 90 };
const guids = { feedGuid: 'music-guid', itemGuid: 'song-1' };

describe('remoteSegments', () => {
  it("pays the remote block's non-fee recipients over the whole segment, tagged with the remote GUIDs", () => {
    expect(remoteSegments(split, song, guids)).toEqual([
      {
        startTime: 60,
        duration: 30,
        remotePercentage: 90,
        remoteFeedGuid: 'music-guid',
        remoteItemGuid: 'song-1',
        recipients: [recipient('artist', 80), recipient('band', 20)],
      },
    ]);
  });

  it('clamps remotePercentage to 0..100 as the namespace says', () => {
    expect(remoteSegments({ ...split, remotePercentage: 150 }, song, guids)[0]!.remotePercentage).toBe(100);
    expect(remoteSegments({ ...split, remotePercentage: -5 }, song, guids)[0]!.remotePercentage).toBe(0);
  });

  it("maps the remote block's own time splits inside [remoteStartTime, remoteStartTime + duration) to the episode's time, after the whole segment", () => {
    const mix: ValueBlock = {
      ...song,
      recipients: [recipient('dj', 1)],
      timeSplits: [
        { startTime: 0, duration: 20, remotePercentage: 100, remoteFeedGuid: 'inner-feed', remoteItemGuid: 'inner-1', recipients: [recipient('inner', 1)] },
        { startTime: 30, duration: 100, remotePercentage: 100, recipients: [recipient('guest', 1)] },
        { startTime: 500, duration: 10, remotePercentage: 100, recipients: [recipient('outside', 1)] },
      ],
    };
    const segments = remoteSegments(split, mix, { feedGuid: 'mix-guid', itemGuid: 'mix-1' });
    expect(segments.map((s) => [s.startTime, s.duration, s.remoteFeedGuid, s.remoteItemGuid, s.recipients[0]!.address])).toEqual([
      [60, 30, 'mix-guid', 'mix-1', 'dj'],
      [60, 8, 'inner-feed', 'inner-1', 'inner'], // remote 12..20 is the episode's 60..68
      [78, 12, 'mix-guid', 'mix-1', 'guest'], // remote 30..42 is the episode's 78..90
    ]);
    expect(segments.every((s) => s.remotePercentage === 90)).toBe(true);
  });

  it('adds no whole segment for a remote block whose non-fee recipients all have split 0', () => {
    const empty: ValueBlock = { ...song, recipients: [recipient('zero', 0), recipient('fee', 5, true)] };
    expect(remoteSegments(split, empty, guids)).toEqual([]);
  });

  // Review finding (byref): the rule says the remote block's fee recipients are not paid, but a fee recipient inside
  // one of the remote block's own (plain) time splits is turned into a regular recipient and paid a share.
  it("pays no fee recipient of the remote block's own time splits either", () => {
    const mix: ValueBlock = {
      ...song,
      timeSplits: [{ startTime: 0, duration: 100, remotePercentage: 100, recipients: [recipient('guest', 95), recipient('mix-fee', 5, true)] }],
    };
    const nested = remoteSegments(split, mix, { feedGuid: 'mix-guid', itemGuid: 'mix-1' })[1]!;
    expect(nested.recipients.map((r) => r.address)).toEqual(['guest']);
  });
});

describe('remoteSegments: nested segments without a paid share', () => {
  it("drops a remote block's own time split whose only recipients are fees or split 0", () => {
    const mix: ValueBlock = {
      ...song,
      timeSplits: [{ startTime: 0, duration: 100, remotePercentage: 100, recipients: [recipient('zero', 0), recipient('mix-fee', 5, true)] }],
    };
    expect(remoteSegments(split, mix, guids).map((s) => s.recipients.map((r) => r.address))).toEqual([['artist', 'band']]);
  });
});
