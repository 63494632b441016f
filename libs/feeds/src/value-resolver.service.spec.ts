import { jest } from '@jest/globals';
import { parseConfig } from '@splitstream/config';
import type { FeedDocument } from './feed-document.js';
import { type FeedSources, type ReadSource, SourceFailure, type SourceRequest } from './feed-sources.js';
import { REFERENCE_DEADLINE_TIMEOUTS, ValueBlockResolver } from './value-resolver.service.js';

const HOST = '025601570cb47f238d2b0286db4a990fa0f3ba28d1a319f5e7cf55c2a2444da7cc';
const recipients = [{ name: 'Host', type: 'node', address: HOST, split: 100 }];
const remoteSplit = (n: number) => ({
  startTime: n,
  duration: 1,
  remotePercentage: 100,
  remoteStartTime: 0,
  remoteItem: { feedGuid: `remote-${n}`, feedUrl: `https://r.example/${n}.xml` },
});

// FeedSources stood in for: each URL's document, the URLs read in order, failures recorded as SourceFailures.
function sourcesServing(documents: Record<string, FeedDocument>, onRead: (url: string) => void = () => {}) {
  const reads: string[] = [];
  const sources = {
    failuresOf: async () => 0,
    succeeded: async () => {},
    read: async (request: SourceRequest): Promise<ReadSource> => {
      reads.push(request.url);
      onRead(request.url);
      return { url: request.url, document: documents[request.url]!, fetchedAt: new Date(0), hash: 'h' };
    },
    fail: async (key: string, url: string, message: string) => new SourceFailure(key, url, message, 1, new Date(0)),
  };
  return { reads, sources: sources as unknown as FeedSources };
}

const configInput = { DATABASE_URL: 'postgresql://x@127.0.0.1/x', REDIS_URL: 'redis://127.0.0.1:6379', FEED_TIMEOUT_MS: '1000' };
const config = parseConfig(configInput);
const episode = (splits: object[]): FeedDocument => ({
  feedGuid: 'show',
  channel: null,
  items: { ep: { type: 'lightning', method: 'keysend', recipients, valueTimeSplits: splits } },
});
const remote: FeedDocument = { feedGuid: 'r', channel: { type: 'lightning', method: 'keysend', recipients }, items: {} };
const ref = { feedUrl: 'https://show.example/feed.xml', feedGuid: 'show', itemGuid: 'ep' };

describe('ValueBlockResolver bounds', () => {
  afterEach(() => jest.restoreAllMocks());

  it('refuses a block of more than 100 time splits before reading any of its remote items', async () => {
    const { reads, sources } = sourcesServing({ [ref.feedUrl]: episode(Array.from({ length: 101 }, (_, n) => remoteSplit(n))) });
    const failure = await new ValueBlockResolver(sources, config).resolve(ref).catch((e: unknown) => e);
    expect((failure as SourceFailure).message).toContain('has 101 time splits; at most 100 are allowed');
    expect(reads).toEqual([ref.feedUrl]);
  });

  it('fails the reference (instead of paying it without remote items) once its walk is past 3 x FEED_TIMEOUT_MS', async () => {
    let now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const documents = { [ref.feedUrl]: episode([remoteSplit(1), remoteSplit(2)]), 'https://r.example/1.xml': remote, 'https://r.example/2.xml': remote };
    // The first remote item's read ends past the deadline.
    const { reads, sources } = sourcesServing(documents, (url) => {
      if (url.endsWith('/1.xml')) now += REFERENCE_DEADLINE_TIMEOUTS * 1000 + 1;
    });
    const failure = await new ValueBlockResolver(sources, config).resolve(ref).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SourceFailure);
    expect((failure as SourceFailure).message).toContain('its remote items were not all read within 3 s');
    expect(reads).toEqual([ref.feedUrl, 'https://r.example/1.xml']);
  });

  it('lists at most 100 remote items left out, their texts cut, however many a feed names', async () => {
    const long = 'g'.repeat(5_000);
    // Depth 1: the show's 100 remote items are read; each names 100 more (with a long GUID), all too deep.
    const deep: FeedDocument = {
      feedGuid: 'r',
      channel: {
        type: 'lightning',
        method: 'keysend',
        recipients,
        valueTimeSplits: Array.from({ length: 100 }, (_, n) => ({ ...remoteSplit(n), remoteItem: { feedGuid: `${long}-${n}` } })),
      },
      items: {},
    };
    const documents: Record<string, FeedDocument> = { [ref.feedUrl]: episode(Array.from({ length: 100 }, (_, n) => remoteSplit(n))) };
    for (let n = 0; n < 100; n++) documents[`https://r.example/${n}.xml`] = deep;
    const { sources } = sourcesServing(documents);
    const resolved = await new ValueBlockResolver(sources, parseConfig({ ...configInput, FEED_REMOTE_DEPTH: '1' })).resolve(ref);
    expect(resolved.source.remoteItems).toHaveLength(100);
    expect(resolved.source.skippedRemoteItems).toHaveLength(100);
    for (const skipped of resolved.source.skippedRemoteItems) expect(skipped.feedGuid.length).toBe(512);
  });

  it('resolves the same walk within the deadline', async () => {
    const documents = { [ref.feedUrl]: episode([remoteSplit(1), remoteSplit(2)]), 'https://r.example/1.xml': remote, 'https://r.example/2.xml': remote };
    const { sources } = sourcesServing(documents);
    const resolved = await new ValueBlockResolver(sources, config).resolve(ref);
    expect(resolved.source.remoteItems).toHaveLength(2);
  });
});
