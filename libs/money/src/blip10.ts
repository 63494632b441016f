// bLIP-10 custom records for one keysend: what receivers (Helipad, wallets, dashboards) read to know what a
// payment is for. Values are plain UTF-8 strings keyed by decimal TLV type, which is what the Alby API takes.

export const TLV_PODCAST_METADATA = '7629169';
export const TLV_KEYSEND_PREIMAGE = '5482373484';
// The bLIP-10 JSON stays under this many UTF-8 bytes; long titles and names are cut to fit.
export const BLIP10_MAX_BYTES = 1024;

export interface KeysendContext {
  action: 'stream';
  valueMsat: bigint; // this keysend
  valueMsatTotal: bigint; // the listening this payment batch covers, before splits
  podcast: { guid: string; title?: string; feedId?: number; url?: string };
  episode: { guid?: string; title?: string; itemId?: number };
  ts: number; // content position, seconds
  app: { name?: string; version?: string };
  senderName?: string; // left out when the listener is anonymous
  recipient: { name?: string; customKey?: string; customValue?: string };
  boostUuid: string; // the same for every recipient of one logical payment
  uuid: string; // unique per keysend
  remoteFeedGuid?: string;
  remoteItemGuid?: string;
}

// The fields cut first when the record is too long: free text only, never identifiers or amounts.
const TRUNCATABLE = ['episode', 'podcast', 'name', 'sender_name', 'app_name', 'app_version'] as const;

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).length;

// The longest prefix of `text` within `maxBytes` of UTF-8 that does not split a character.
export function truncateUtf8(text: string, maxBytes: number): string {
  if (byteLength(text) <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const char of text) {
    const size = byteLength(char);
    if (used + size > maxBytes) break;
    out += char;
    used += size;
  }
  return out;
}

const toJsonNumber = (msat: bigint): number => {
  if (msat < 0n || msat > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`msat out of range: ${msat}`);
  return Number(msat);
};

export function blip10Metadata(ctx: KeysendContext, maxBytes = BLIP10_MAX_BYTES): Record<string, string | number> {
  const record: Record<string, string | number | undefined> = {
    action: ctx.action,
    value_msat: toJsonNumber(ctx.valueMsat),
    value_msat_total: toJsonNumber(ctx.valueMsatTotal),
    guid: ctx.podcast.guid,
    podcast: ctx.podcast.title,
    feedID: ctx.podcast.feedId,
    url: ctx.podcast.url,
    episode_guid: ctx.episode.guid,
    episode: ctx.episode.title,
    itemID: ctx.episode.itemId,
    ts: Math.floor(ctx.ts),
    app_name: ctx.app.name,
    app_version: ctx.app.version,
    sender_name: ctx.senderName,
    name: ctx.recipient.name,
    boost_uuid: ctx.boostUuid,
    uuid: ctx.uuid,
    remote_feed_guid: ctx.remoteFeedGuid,
    remote_item_guid: ctx.remoteItemGuid,
  };
  for (const key of Object.keys(record)) if (record[key] === undefined || record[key] === '') delete record[key];

  // Cut the longest free-text field by what is over, until the whole fits (JSON escaping can add bytes back).
  for (let over = byteLength(JSON.stringify(record)) - maxBytes; over > 0; over = byteLength(JSON.stringify(record)) - maxBytes) {
    const longest = TRUNCATABLE.filter((k) => typeof record[k] === 'string' && record[k] !== '').sort(
      (a, b) => byteLength(record[b] as string) - byteLength(record[a] as string),
    )[0];
    if (!longest) throw new RangeError(`bLIP-10 record cannot fit in ${maxBytes} bytes`);
    const text = record[longest] as string;
    record[longest] = truncateUtf8(text, Math.max(0, byteLength(text) - over));
  }
  return record as Record<string, string | number>;
}

export function buildCustomRecords(ctx: KeysendContext): Record<string, string> {
  const records: Record<string, string> = { [TLV_PODCAST_METADATA]: JSON.stringify(blip10Metadata(ctx)) };
  const { customKey, customValue } = ctx.recipient;
  if (customKey !== undefined && customValue !== undefined) {
    if (customKey === TLV_KEYSEND_PREIMAGE || customKey === TLV_PODCAST_METADATA) {
      throw new RangeError(`custom key ${customKey} is reserved`);
    }
    records[customKey] = customValue;
  }
  return records;
}
