import { parseFeed } from 'podcast-partytime';
import { logger as partytimeLogger } from 'podcast-partytime/dist/logger.js';

// podcast-partytime logs every invalid feed whole (up to FEED_MAX_BODY_BYTES of someone else's text) on its own
// logger: splitstream reports the failure itself (the event's reason), so that logger is silenced.
partytimeLogger.level = 'silent';

// A value block as its source gave it: a feed's <podcast:value> as podcast-partytime parses it, or a Podcast Index
// value answer's `value` (model and destinations). Checked and mapped by libs/money's valueBlockSchema when used.
export type RawValueBlock = Record<string, unknown>;

// What splitstream keeps of one source: the channel's block and each item's (by item guid), nothing else.
export interface FeedDocument {
  feedGuid: string | null;
  channel: RawValueBlock | null;
  items: Record<string, RawValueBlock>;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// Control characters (but tab and newlines) and lone surrogates: text PostgreSQL's jsonb refuses (NUL) or no
// recipient name needs. Taken out of everything a document keeps, so storing someone else's feed never fails.
const UNSTORABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// `value` with every string (keys too) cleaned of UNSTORABLE characters.
export function storable<T>(value: T): T {
  if (typeof value === 'string') return value.replace(UNSTORABLE, '') as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)])) as T;
  return value;
}

// A feed's value blocks, or undefined when podcast-partytime cannot read it as a podcast feed.
export function feedDocumentOf(xml: string): FeedDocument | undefined {
  let feed: ReturnType<typeof parseFeed>;
  try {
    feed = parseFeed(xml);
  } catch {
    return undefined;
  }
  if (!feed) return undefined;
  const items: Record<string, RawValueBlock> = {};
  for (const item of feed.items) {
    // podcast-partytime gives an item without a block of its own the channel's (the same object): kept once.
    if (item.guid && isRecord(item.value) && item.value !== feed.value) items[item.guid] = item.value;
  }
  return storable({ feedGuid: feed.guid ?? null, channel: isRecord(feed.value) ? feed.value : null, items });
}

// A Podcast Index value answer ({status, query, value: {model, destinations}, description}) as a document: the
// block is the episode's when `itemGuid` is given (/value/byepisodeguid), else the channel's (/value/bypodcastguid).
// Only model and destinations are kept (the API's block carries no time splits splitstream could use). Undefined
// when the answer is not JSON; a document without a block when the index has none.
export function podcastIndexDocumentOf(json: string, feedGuid: string, itemGuid?: string): FeedDocument | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isRecord(answer)) return undefined;
  const value = answer.value;
  const block = isRecord(value) && isRecord(value.model) && Array.isArray(value.destinations) ? { model: value.model, destinations: value.destinations } : null;
  if (itemGuid === undefined) return storable({ feedGuid, channel: block, items: {} });
  return storable({ feedGuid, channel: null, items: block ? { [itemGuid]: block } : {} });
}

export const isPodcastIndexBlock = (raw: RawValueBlock): boolean => 'model' in raw || 'destinations' in raw;
