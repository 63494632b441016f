import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { BLIP10_MAX_BYTES, MAX_TIME_SPLITS, minimalBlip10Bytes, type TimeSplit, type ValueBlock, valueBlockSchema } from '@splitstream/money';
import { feedDocumentOf, isPodcastIndexBlock, podcastIndexDocumentOf, type RawValueBlock } from './feed-document.js';
import { FeedSources, itemKeyOf, type ReadSource, type SourceRequest, sourceKeyOf } from './feed-sources.js';
import { type RemoteSplit, remoteSegments } from './remote-segments.js';

// What an event (or a boost) names instead of a value block: the feed's URL, or only the GUIDs.
export interface ValueReference {
  feedUrl?: string;
  feedGuid: string;
  itemGuid?: string;
}

// Where a block came from: the feed itself or the Podcast Index, the item's block or the channel's, read when, the
// sha256 of what was read.
export interface BlockOrigin {
  via: 'feed' | 'podcastIndex';
  level: 'item' | 'channel';
  url: string;
  feedGuid: string;
  itemGuid: string | null;
  fetchedAt: string;
  hash: string;
}

// The event view's record of the block that paid an event: its own origin, each remote item's (with its depth),
// and the remote items left out (a loop, or deeper than FEED_REMOTE_DEPTH).
export interface ValueSource extends BlockOrigin {
  remoteItems: (BlockOrigin & { depth: number })[];
  skippedRemoteItems: { feedGuid: string; itemGuid: string | null; reason: string }[];
}

export interface ResolvedValue {
  block: ValueBlock;
  source: ValueSource;
}

// Remote items one reference may resolve in all (every level together): a block of 100 time splits whose remote
// items have 100 each would otherwise cost 10 000 reads. Those beyond are left out, with the reason.
export const MAX_REMOTE_ITEMS = MAX_TIME_SPLITS;

// The remote items left out that a reference's record lists (the first ones; their texts cut), so a feed whose
// blocks name thousands of remote items cannot make every event's record large.
const MAX_SKIPPED_LISTED = MAX_REMOTE_ITEMS;
const MAX_SKIPPED_TEXT = 512;

// One reference's walk (its block and every remote item's) starts no read after this many FEED_TIMEOUT_MS: past it
// the reference fails (tried again later, what was read so far cached) rather than be paid without remote items
// that a slower network left out.
export const REFERENCE_DEADLINE_TIMEOUTS = 3;

interface Walk {
  keys: Set<string>; // sources and items that gave a usable block
  resolved: number; // remote items resolved so far
  remoteItems: ValueSource['remoteItems'];
  skipped: ValueSource['skippedRemoteItems'];
  deadline: number; // epoch ms
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const itemName = (ref: ValueReference) => (ref.itemGuid === undefined ? 'the channel' : `item ${JSON.stringify(ref.itemGuid)}`);

// The value block for a feed/item reference (README: value blocks by reference), the one entry for it: by
// feedUrl, the feed read through FeedSources and parsed with podcast-partytime (the item's block, else the
// channel's); by GUIDs only, the Podcast Index value API (/value/byepisodeguid, else /value/bypodcastguid).
// Each <podcast:valueTimeSplit> with a <podcast:remoteItem> is resolved the same way (its feedUrl when the tag has
// one, else its GUIDs), recursively up to FEED_REMOTE_DEPTH, a remote item already on the path (a loop) left out.
// Throws FeedSources' SourceFailure (the source or item that failed, how many times in a row, when to try again).
@Injectable()
export class ValueBlockResolver {
  constructor(
    private readonly sources: FeedSources,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async resolve(ref: ValueReference): Promise<ResolvedValue> {
    const deadline = Date.now() + REFERENCE_DEADLINE_TIMEOUTS * this.config.FEED_TIMEOUT_MS;
    const walk: Walk = { keys: new Set(), resolved: 0, remoteItems: [], skipped: [], deadline };
    const { block, origin } = await this.blockOf(ref, 0, [identityOf(ref)], walk);
    await this.sources.succeeded([...walk.keys]);
    return { block, source: { ...origin, remoteItems: walk.remoteItems, skippedRemoteItems: walk.skipped } };
  }

  private async blockOf(ref: ValueReference, depth: number, path: string[], walk: Walk): Promise<{ block: ValueBlock; origin: BlockOrigin }> {
    const { raw, origin, key } = await this.rawBlock(ref);
    const timeSplits: TimeSplit[] = [];
    const splits: unknown[] = isPodcastIndexBlock(raw) || !Array.isArray(raw.valueTimeSplits) ? [] : raw.valueTimeSplits;
    // Checked before any remote item is read: such a block is refused anyway.
    if (splits.length > MAX_TIME_SPLITS) {
      throw await this.sources.fail(
        key,
        origin.url,
        `the value block for ${itemName(ref)} in ${origin.url} has ${splits.length} time splits; at most ${MAX_TIME_SPLITS} are allowed`,
      );
    }
    for (const split of splits) {
      if (!isRecord(split)) continue;
      const remote = isRecord(split.remoteItem) ? split.remoteItem : undefined;
      if (!remote) {
        timeSplits.push({ ...(split as unknown as TimeSplit), recipients: split.recipients as TimeSplit['recipients'] });
        continue;
      }
      const remoteRef: ValueReference = {
        feedGuid: String(remote.feedGuid ?? ''),
        ...(typeof remote.itemGuid === 'string' && { itemGuid: remote.itemGuid }),
        ...(typeof remote.feedUrl === 'string' && { feedUrl: remote.feedUrl }),
      };
      const skip = (reason: string) => {
        if (walk.skipped.length >= MAX_SKIPPED_LISTED) return;
        const cut = (text: string) => [...text].slice(0, MAX_SKIPPED_TEXT).join('');
        walk.skipped.push({
          feedGuid: cut(remoteRef.feedGuid),
          itemGuid: remoteRef.itemGuid === undefined ? null : cut(remoteRef.itemGuid),
          reason: cut(reason),
        });
      };
      if (path.includes(identityOf(remoteRef))) {
        skip(`loop: it is already on the path ${path.join(' > ')}`);
      } else if (depth >= this.config.FEED_REMOTE_DEPTH) {
        skip(`deeper than FEED_REMOTE_DEPTH (${this.config.FEED_REMOTE_DEPTH})`);
      } else if (walk.resolved >= MAX_REMOTE_ITEMS) {
        skip(`more than ${MAX_REMOTE_ITEMS} remote items in one block`);
      } else if (Date.now() > walk.deadline) {
        const seconds = (REFERENCE_DEADLINE_TIMEOUTS * this.config.FEED_TIMEOUT_MS) / 1000;
        throw await this.sources.fail(
          key,
          origin.url,
          `${itemName(ref)} in ${origin.url}: its remote items were not all read within ${seconds} s (${REFERENCE_DEADLINE_TIMEOUTS} x FEED_TIMEOUT_MS)`,
        );
      } else {
        walk.resolved += 1;
        const inner = await this.blockOf(remoteRef, depth + 1, [...path, identityOf(remoteRef)], walk);
        walk.remoteItems.push({ ...inner.origin, depth: depth + 1 });
        timeSplits.push(...remoteSegments(split as unknown as RemoteSplit, inner.block, remoteRef));
      }
    }
    const input = isPodcastIndexBlock(raw) ? raw : { type: raw.type, method: raw.method, recipients: raw.recipients, timeSplits: timeSplits.map(stripSplit) };
    const parsed = valueBlockSchema.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'block'}: ${i.message}`);
      throw await this.sources.fail(key, origin.url, `the value block for ${itemName(ref)} in ${origin.url} breaks the rules (${issues.join('; ')})`);
    }
    const tooLong = parsed.data.timeSplits.find(
      (s) =>
        minimalBlip10Bytes({ feedGuid: ref.feedGuid, itemGuid: ref.itemGuid ?? '', remoteFeedGuid: s.remoteFeedGuid, remoteItemGuid: s.remoteItemGuid }) >
        BLIP10_MAX_BYTES,
    );
    if (tooLong)
      throw await this.sources.fail(key, origin.url, `remote item ${tooLong.remoteFeedGuid}: its GUIDs cannot fit the ${BLIP10_MAX_BYTES}-byte bLIP-10 record`);
    walk.keys.add(key);
    walk.keys.add(sourceKeyOf(origin.via, origin.url));
    return { block: parsed.data, origin };
  }

  // The item's block, else the channel's, from the feed or the Podcast Index; `key` is the item's failure key.
  private async rawBlock(ref: ValueReference): Promise<{ raw: RawValueBlock; origin: BlockOrigin; key: string }> {
    if (ref.feedUrl !== undefined) {
      const key = itemKeyOf('feed', ref.feedUrl, ref.itemGuid ?? '');
      const revalidate = (await this.sources.failuresOf(key)) > 0;
      const feed = await this.sources.read({ kind: 'feed', url: ref.feedUrl, parse: feedDocumentOf }, { revalidate });
      const item = ref.itemGuid === undefined ? undefined : feed.document.items[ref.itemGuid];
      const raw = item ?? feed.document.channel;
      if (!raw) throw await this.sources.fail(key, ref.feedUrl, `feed ${ref.feedUrl} has no <podcast:value> for ${itemName(ref)} nor for its channel`);
      return { raw, key, origin: originOf('feed', item ? 'item' : 'channel', feed, ref) };
    }
    const base = this.config.PODCAST_INDEX_API_URL.replace(/\/+$/, '');
    const episodeUrl = `${base}/value/byepisodeguid?${new URLSearchParams({ podcastguid: ref.feedGuid, episodeguid: ref.itemGuid ?? '' })}`;
    const podcastUrl = `${base}/value/bypodcastguid?${new URLSearchParams({ guid: ref.feedGuid })}`;
    const key = itemKeyOf('podcastIndex', ref.itemGuid === undefined ? podcastUrl : episodeUrl, ref.itemGuid ?? '');
    const revalidate = (await this.sources.failuresOf(key)) > 0;
    if (ref.itemGuid !== undefined) {
      const episode = await this.sources.read(this.indexRequest(episodeUrl, ref.feedGuid, ref.itemGuid), { revalidate });
      const item = episode.document.items[ref.itemGuid];
      if (item) return { raw: item, key, origin: originOf('podcastIndex', 'item', episode, ref) };
    }
    const podcast = await this.sources.read(this.indexRequest(podcastUrl, ref.feedGuid), { revalidate });
    if (!podcast.document.channel)
      throw await this.sources.fail(key, podcastUrl, `the Podcast Index has no value block for ${itemName(ref)} of podcast ${ref.feedGuid}`);
    return { raw: podcast.document.channel, key, origin: originOf('podcastIndex', 'channel', podcast, ref) };
  }

  private indexRequest(url: string, feedGuid: string, itemGuid?: string): SourceRequest {
    return { kind: 'podcastIndex', url, parse: (body) => podcastIndexDocumentOf(body, feedGuid, itemGuid), headers: () => this.indexHeaders() };
  }

  // The Podcast Index's signature: X-Auth-Date (unix seconds), X-Auth-Key, Authorization = sha1(key + secret + date).
  private indexHeaders(): Record<string, string> {
    const { PODCAST_INDEX_API_KEY: key, PODCAST_INDEX_API_SECRET: secret } = this.config;
    if (key === undefined || secret === undefined) return {};
    const date = String(Math.floor(Date.now() / 1000));
    return {
      'x-auth-date': date,
      'x-auth-key': key,
      authorization: createHash('sha1')
        .update(key + secret + date)
        .digest('hex'),
    };
  }
}

const identityOf = (ref: ValueReference) => `${ref.feedGuid}/${ref.itemGuid ?? ''}`;

const originOf = (via: BlockOrigin['via'], level: BlockOrigin['level'], read: ReadSource, ref: ValueReference): BlockOrigin => ({
  via,
  level,
  url: read.url,
  feedGuid: ref.feedGuid,
  itemGuid: ref.itemGuid ?? null,
  fetchedAt: read.fetchedAt.toISOString(),
  hash: read.hash,
});

// A time split in splitstream's own shape (podcast-partytime's carries type and remoteStartTime besides).
const stripSplit = ({ startTime, duration, remotePercentage, remoteFeedGuid, remoteItemGuid, recipients }: TimeSplit) => ({
  startTime,
  duration,
  ...(remotePercentage !== undefined && { remotePercentage }),
  ...(remoteFeedGuid !== undefined && { remoteFeedGuid }),
  ...(remoteItemGuid !== undefined && { remoteItemGuid }),
  recipients,
});
