import { readFileSync } from 'node:fs';
import { parseFeed } from 'podcast-partytime';
import { splitListening } from './split.js';
import { withSuggestionBudget } from './strict-object.js';
import { pubkey, recipient, valueBlock } from './testing/value-builders.js';
import { parseValueBlock, type ValueBlock } from './value-block.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), 'utf8');

const parsed = (input: unknown): ValueBlock => {
  const result = parseValueBlock(input);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
};
const issuesOf = (input: unknown) => {
  const result = parseValueBlock(input);
  if (result.ok) throw new Error('expected the block to be rejected');
  return result.issues;
};
const amounts = (value: ValueBlock, position = 0, seconds = 180) =>
  splitListening({ amountMsat: 180_000n, position, seconds, value }).map((a) => [a.recipient.name, a.remoteItemGuid ?? null, a.amountMsat]);

// What podcast-partytime makes of the fixture feeds (its real output, not a copy): the show's episode block, with
// the remote item's recipients added from the music feed's own item, as an app does before paying a remote split.
function partytimeEpisodeBlock() {
  const show = parseFeed(fixture('value-show.xml'))!;
  const music = parseFeed(fixture('value-music.xml'))!;
  const block = structuredClone(show.items[0]!.value!);
  for (const split of block.valueTimeSplits ?? []) {
    if (split.type === 'remoteItem') {
      const song = music.guid === split.remoteItem.feedGuid ? music.items.find((i) => i.guid === split.remoteItem.itemGuid) : undefined;
      Object.assign(split, { recipients: song!.value!.recipients });
    }
  }
  return block;
}

// The episode's recipients as the feed lists them (the Podcast Index API returns the same as destinations).
const episodeRecipients = [
  { name: 'Host', type: 'node', address: '025601570cb47f238d2b0286db4a990fa0f3ba28d1a319f5e7cf55c2a2444da7cc', split: 100 },
  { name: 'Cohost on leave', type: 'node', address: '03605bdb019981718b986d0f07e834cb0d9deb8360ffb7f61df982345ef27a7479', split: 0 },
  {
    name: 'App',
    type: 'node',
    address: '02497c83c39c76e56d070fb906bced44099de2d0e222575f22e4749682de46eeac',
    split: 5,
    fee: true,
    customKey: '696969',
    customValue: 'shapes-app',
  },
];

// The same block in splitstream's own shape, written by hand from the fixture.
const nativeEpisodeBlock = {
  type: 'lightning',
  method: 'keysend',
  recipients: episodeRecipients,
  timeSplits: [
    {
      startTime: 60,
      duration: 30.5,
      remotePercentage: 90,
      remoteFeedGuid: 'a8f2c6b4-0c1e-5b3a-9d7e-2f4a6c8e0b12',
      remoteItemGuid: 'song-1',
      recipients: [{ name: 'Artist', type: 'node', address: '032b22efda32491a9e0294339ca3da761f7d36cfc8814c1b29ca731921025ff695', split: 100 }],
    },
    {
      startTime: 120,
      duration: 15,
      recipients: [{ name: 'Guest', type: 'node', address: '025edd5cc23c51e87a497ca815d5dce0f8ab52554f849ed8995de64c5f34ce7143', split: 1 }],
    },
  ],
};

// Modelled on the Podcast Index API's documented answer to value/byfeedid (and podcasts/byfeedid's feed.value):
// { status, query, value: { model: { type, method, suggested }, destinations: [...] }, description }.
const podcastIndexResponse = {
  status: 'true',
  query: { id: '920666' },
  value: {
    model: { type: 'lightning', method: 'keysend', suggested: '0.00000005000' },
    destinations: episodeRecipients,
  },
  description: 'Found matching feed',
};

describe('value blocks in the shapes apps hold', () => {
  it("reads podcast-partytime's parse of a feed (value time splits, remote items, split 0) as the same block as splitstream's own shape", () => {
    const fromFeed = parsed(partytimeEpisodeBlock());
    const native = parsed(nativeEpisodeBlock);
    expect(fromFeed).toEqual(native);
    expect(fromFeed.timeSplits[0]).toMatchObject({ remoteFeedGuid: 'a8f2c6b4-0c1e-5b3a-9d7e-2f4a6c8e0b12', remoteItemGuid: 'song-1', remotePercentage: 90 });
    // Every listening position splits the same way, inside the splits and across their (fractional) edges.
    for (const [position, seconds] of [
      [0, 180],
      [59.5, 31.5],
      [90.25, 0.5],
      [119.999, 16],
    ] as const) {
      expect(amounts(fromFeed, position, seconds)).toEqual(amounts(native, position, seconds));
    }
    const split = amounts(fromFeed);
    expect(split).toContainEqual(['Artist', 'song-1', expect.any(BigInt)]);
    expect(split.find(([name]) => name === 'Cohost on leave')).toBeUndefined(); // split 0 receives nothing
  });

  it("reads the Podcast Index API's value (model, destinations) as the same block, split the same", () => {
    const fromIndex = parsed(podcastIndexResponse.value);
    const native = parsed({ ...nativeEpisodeBlock, timeSplits: [] });
    expect(fromIndex).toEqual(native);
    expect(amounts(fromIndex)).toEqual(amounts(native));
    // App 5% of 180 sats = 9 sats; the Host everything else; the 0 split nothing.
    expect(amounts(fromIndex)).toEqual([
      ['Host', null, 171_000n],
      ['App', null, 9_000n],
    ]);
  });

  it('says so, once, when a whole Podcast Index API answer is sent for its value block', () => {
    expect(parseValueBlock(podcastIndexResponse)).toMatchObject({
      ok: false,
      issues: [{ path: '', message: 'this is a whole Podcast Index API answer: send its "value" field as the value block' }],
    });
  });

  it('reports unknown fields of each shape on their own paths, with the field it was probably meant to be', () => {
    const index = structuredClone(podcastIndexResponse.value) as Record<string, any>;
    index.model.Method = 'keysend';
    index.destinations[0].adress = index.destinations[0].address;
    index.extra = 1;
    expect(issuesOf(index)).toEqual(
      expect.arrayContaining([
        { path: 'model.Method', message: 'unknown field; did you mean method?' },
        { path: 'destinations[0].adress', message: 'unknown field; did you mean address?' },
        { path: 'extra', message: 'unknown field' },
      ]),
    );
    const feed = partytimeEpisodeBlock() as Record<string, any>;
    feed.valueTimeSplits[0].remoteItem.itemGUID = 'song-1';
    feed.valueTimeSplits[1].remotepercentage = 50;
    feed.valueTimeSplits[1].recipients[0].splt = 1;
    expect(issuesOf(feed)).toEqual([
      { path: 'valueTimeSplits[0].remoteItem.itemGUID', message: 'unknown field; did you mean itemGuid?' },
      { path: 'valueTimeSplits[1].recipients[0].splt', message: 'unknown field; did you mean split?' },
      { path: 'valueTimeSplits[1].remotepercentage', message: 'unknown field; did you mean remotePercentage?' },
    ]);
    expect(issuesOf(valueBlock([recipient(1, 1, { Fee: true } as object)]))).toEqual([
      { path: 'recipients[0].Fee', message: 'unknown field; did you mean fee?' },
    ]);
    expect(
      issuesOf({ ...valueBlock([recipient(1, 1)]), timeSplits: [{ startTime: 0, duration: 1, recipients: [recipient(2, 1)], remoteFeedGUID: 'x' }] }),
    ).toEqual([{ path: 'timeSplits[0].remoteFeedGUID', message: 'unknown field; did you mean remoteFeedGuid?' }]);
  });

  it('names rule breaks by the fields of the shape the app sent', () => {
    expect(issuesOf({ model: { type: 'lightning', method: 'keysend' }, destinations: [recipient(1, 0)] })).toEqual([
      { path: 'destinations', message: 'at least one recipient without fee, with a split above 0, is required' },
    ]);
    const feed = partytimeEpisodeBlock() as Record<string, any>;
    delete feed.valueTimeSplits[0].recipients;
    expect(issuesOf(feed)).toEqual([
      {
        path: 'valueTimeSplits[0].recipients',
        message: "is required: the remote item's recipients, from its own feed's value block (partytime leaves them to the app)",
      },
    ]);
    feed.valueTimeSplits[0].recipients = [recipient(1, 0)];
    expect(issuesOf(feed)).toEqual([{ path: 'valueTimeSplits[0].recipients', message: 'at least one recipient, with a split above 0, is required' }]);
  });

  it('bounds the report of a body full of unknown fields', () => {
    const junk = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`junk${i}`, i]));
    const issues = issuesOf({ ...valueBlock([recipient(1, 1)]), ...junk });
    expect(issues).toHaveLength(11);
    expect(issues.at(-1)).toEqual({ path: '', message: '990 more unknown fields; known: type, method, suggested, recipients, timeSplits' });
  });

  it('tells the shapes apart by their own fields: a native block with suggested keeps its timeSplits', () => {
    const timeSplits = [{ startTime: 0, duration: 10, recipients: [recipient(2, 1, { name: 'Guest' })] }];
    const native = { ...valueBlock([recipient(1, 1)]), timeSplits };
    expect(parsed({ ...native, suggested: '0.00000005000' })).toEqual(parsed(native));
    expect(issuesOf({ ...native, valueTimeSplits: [] })).toEqual([{ path: 'valueTimeSplits', message: 'unknown field' }]);
    expect(issuesOf({ model: { type: 'lightning', method: 'keysend' }, destinations: [recipient(1, 1)], valueTimeSplits: timeSplits })).toEqual([
      { path: 'valueTimeSplits', message: 'unknown field' },
    ]);
  });

  it('checks list lengths before any element, so a long list of junk costs one issue', () => {
    const junk = (n: number) => Array.from({ length: n }, () => ({}));
    expect(issuesOf({ type: 'lightning', method: 'keysend', recipients: junk(100_000) })).toEqual([
      { path: 'recipients', message: '100000 recipients; at most 100 per list are allowed' },
    ]);
    expect(issuesOf({ type: 'lightning', method: 'keysend', recipients: junk(1), valueTimeSplits: junk(101) })).toEqual([
      { path: 'valueTimeSplits', message: '101 time splits; at most 100 per list are allowed' },
    ]);
    expect(issuesOf({ ...valueBlock([recipient(1, 1)]), timeSplits: [{ startTime: 0, duration: 1, recipients: junk(101) }] })).toEqual([
      { path: 'timeSplits[0].recipients', message: '101 recipients; at most 100 per list are allowed' },
    ]);
    expect(issuesOf({ model: { type: 'lightning', method: 'keysend' }, destinations: junk(101) })).toEqual([
      { path: 'destinations', message: '101 recipients; at most 100 per list are allowed' },
    ]);
  });

  it('suggests the field meant within a budget per parse, and plainly reports the fields past it', () => {
    const block = { ...valueBlock([recipient(1, 1)]), Recipientz: 1, timeSplitz: [] };
    expect(withSuggestionBudget(1, () => issuesOf(block))).toEqual([
      { path: 'Recipientz', message: 'unknown field; did you mean recipients?' },
      { path: 'timeSplitz', message: 'unknown field' },
    ]);
    expect(issuesOf(block).map((i) => i.message)).toEqual(['unknown field; did you mean recipients?', 'unknown field; did you mean timeSplits?']);
  });

  it('accepts split 0 beside a positive split, which receives nothing', () => {
    const value = parsed(valueBlock([recipient(1, 0), recipient(2, 100)]));
    expect(splitListening({ amountMsat: 1_000n, position: 0, seconds: 60, value }).map((a) => [a.recipient.address, a.amountMsat])).toEqual([
      [pubkey(2), 1_000n],
    ]);
  });
});
