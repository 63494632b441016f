// bLIP-10 custom records for one keysend: what receivers (Helipad, wallets, dashboards) read to know what a
// payment is for. Values are plain UTF-8 strings keyed by decimal TLV type, which is what the Alby API takes.

export const TLV_PODCAST_METADATA = '7629169';
export const TLV_KEYSEND_PREIMAGE = '5482373484';
// The bLIP-10 JSON stays within this many UTF-8 bytes.
export const BLIP10_MAX_BYTES = 1024;

// A boost's own fields: its message and the reply address a receiver may answer to (bLIP-10).
export interface BoostFields {
  message: string;
  replyAddress?: string;
  replyCustomKey?: string;
  replyCustomValue?: string;
}

export interface KeysendContext {
  action: 'stream' | 'boost';
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
  boost?: BoostFields; // with action "boost"
}

type Record10 = Record<string, string | number>;

// Making a long record fit, in this order, never touching a required field:
// 1. drop `url` (a cut URL would point somewhere else; `guid` names the feed);
// 2. cut every free-text field to one common byte cap, the largest with which the record fits, on a character
//    boundary (so the longest fields are cut first, and short ones keep their text); an empty field is dropped;
// 3. drop the optional numeric ids `itemID`, then `feedID`.
// Required, never cut: action, value_msat, value_msat_total, guid, episode_guid, ts, boost_uuid, uuid and the
// remote guids of a time split; and a boost's message, sender_name and reply fields (the request that would not
// fit is refused, see minimalBlip10Bytes).
const DROPPED_FIRST = ['url'] as const;
const FREE_TEXT = ['episode', 'podcast', 'name', 'sender_name', 'app_name', 'app_version'] as const;
const DROPPED_LAST = ['itemID', 'feedID'] as const;

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).length;
const recordBytes = (record: Record10) => byteLength(JSON.stringify(record));

export class Blip10TooLargeError extends RangeError {
  override name = 'Blip10TooLargeError';
}

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

function fullRecord(ctx: KeysendContext): Record10 {
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
    message: ctx.boost?.message,
    reply_address: ctx.boost?.replyAddress,
    reply_custom_key: ctx.boost?.replyCustomKey,
    reply_custom_value: ctx.boost?.replyCustomValue,
  };
  for (const key of Object.keys(record)) if (record[key] === undefined || record[key] === '') delete record[key];
  return record as Record10;
}

// Free text cut to the largest common byte cap that makes the record fit (binary search over the cap).
function capFreeText(record: Record10, maxBytes: number): void {
  const cuttable = FREE_TEXT.filter((k) => typeof record[k] === 'string' && !(record.action === 'boost' && k === 'sender_name'));
  const original = Object.fromEntries(cuttable.map((k) => [k, record[k] as string]));
  const apply = (cap: number) => {
    for (const [key, text] of Object.entries(original)) {
      const cut = truncateUtf8(text, cap);
      if (cut === '') delete record[key];
      else record[key] = cut;
    }
  };
  let [low, high] = [0, Math.max(0, ...Object.values(original).map(byteLength))];
  while (low < high) {
    const cap = Math.ceil((low + high) / 2);
    apply(cap);
    if (recordBytes(record) <= maxBytes) low = cap;
    else high = cap - 1;
  }
  apply(low);
}

export function blip10Metadata(ctx: KeysendContext, maxBytes = BLIP10_MAX_BYTES): Record10 {
  const record = fullRecord(ctx);
  for (const key of DROPPED_FIRST) {
    if (recordBytes(record) <= maxBytes) return record;
    delete record[key];
  }
  if (recordBytes(record) > maxBytes) capFreeText(record, maxBytes);
  for (const key of DROPPED_LAST) {
    if (recordBytes(record) <= maxBytes) return record;
    delete record[key];
  }
  if (recordBytes(record) > maxBytes) throw new Blip10TooLargeError(`the bLIP-10 record cannot fit in ${maxBytes} bytes`);
  return record;
}

// The identifiers every record of an event carries (never cut), and the record they make with the largest
// amounts and a standard uuid: when that exceeds the limit, no keysend for the event could ever be built.
export interface Blip10Identifiers {
  feedGuid: string;
  itemGuid: string;
  remoteFeedGuid?: string;
  remoteItemGuid?: string;
  boost?: BoostFields & { senderName?: string };
}

const LARGEST_MSAT = BigInt(Number.MAX_SAFE_INTEGER);
const UUID_SHAPED = '00000000-0000-0000-0000-000000000000';

// Every event of an episode asks again: the sizes for identifiers without a boost are remembered (a bounded few).
const REMEMBERED_SIZES = 2_000;
const rememberedSizes = new Map<string, number>();

// The identifiers asked last, and their size: an event's next event most often names the same episode.
let lastAsked: { ids: Blip10Identifiers; bytes: number } | undefined;
const sameIdentifiers = (a: Blip10Identifiers, b: Blip10Identifiers) =>
  a.feedGuid === b.feedGuid && a.itemGuid === b.itemGuid && a.remoteFeedGuid === b.remoteFeedGuid && a.remoteItemGuid === b.remoteItemGuid;

export function minimalBlip10Bytes(ids: Blip10Identifiers): number {
  if (ids.boost) return measureMinimal(ids);
  if (lastAsked !== undefined && sameIdentifiers(ids, lastAsked.ids)) return lastAsked.bytes;
  const key = JSON.stringify([ids.feedGuid, ids.itemGuid, ids.remoteFeedGuid, ids.remoteItemGuid]);
  let bytes = rememberedSizes.get(key);
  if (bytes === undefined) {
    if (rememberedSizes.size >= REMEMBERED_SIZES) rememberedSizes.clear();
    bytes = measureMinimal(ids);
    rememberedSizes.set(key, bytes);
  }
  const { feedGuid, itemGuid, remoteFeedGuid, remoteItemGuid } = ids;
  lastAsked = { ids: { feedGuid, itemGuid, remoteFeedGuid, remoteItemGuid }, bytes };
  return bytes;
}

function measureMinimal(ids: Blip10Identifiers): number {
  return recordBytes(
    fullRecord({
      action: ids.boost ? 'boost' : 'stream',
      valueMsat: LARGEST_MSAT,
      valueMsatTotal: LARGEST_MSAT,
      podcast: { guid: ids.feedGuid },
      episode: { guid: ids.itemGuid },
      ts: 7 * 24 * 3600,
      app: {},
      ...(ids.boost?.senderName !== undefined && { senderName: ids.boost.senderName }),
      ...(ids.boost && { boost: ids.boost }),
      recipient: {},
      boostUuid: UUID_SHAPED,
      uuid: UUID_SHAPED,
      ...(ids.remoteFeedGuid !== undefined && { remoteFeedGuid: ids.remoteFeedGuid }),
      ...(ids.remoteItemGuid !== undefined && { remoteItemGuid: ids.remoteItemGuid }),
    }),
  );
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

// The one-line account of a bLIP-10 record that an LNURL-pay comment carries (receivers show comments, not
// records): action and amount, show, episode, position, app, and the payment's uuid. Cut to `maxChars` (LUD-12
// counts characters), whole code points only.
export function blip10Summary(record: Record<string, unknown>, maxChars: number): string {
  const text = (key: string) => (typeof record[key] === 'string' || typeof record[key] === 'number' ? String(record[key]) : undefined);
  const msat = text('value_msat');
  const parts = [
    `${text('action') ?? 'stream'}${msat ? ` ${BigInt(msat) / 1000n} sats` : ''}`,
    text('message') && `${text('sender_name') ?? 'anonymous'}: ${text('message')}`,
    text('podcast') ?? text('guid'),
    text('episode') ?? text('episode_guid'),
    text('ts') && `at ${text('ts')} s`,
    text('app_name') && `via ${text('app_name')}`,
    text('uuid') && `uuid ${text('uuid')}`,
  ].filter(Boolean);
  return [...parts.join(' · ')].slice(0, Math.max(0, maxChars)).join('');
}
