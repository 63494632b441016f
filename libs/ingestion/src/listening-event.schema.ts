import { z } from 'zod';
import {
  BLIP10_MAX_BYTES,
  eventAmountMsat,
  minimalBlip10Bytes,
  sentPath,
  strictObject,
  type ValueBlock,
  valueBlockSchema,
  wholeMilliseconds,
} from '@splitstream/money';

export const MAX_EVENTS_PER_REQUEST = 500;

const optionalText = (max: number) => z.string().max(max, `must be at most ${max} characters`).optional();
const wholeNumber = (min: number, max: number) =>
  z
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be a whole number from ${min} to ${max}`)
    .max(max, `must be a whole number from ${min} to ${max}`);
// Players report where and how long they played in decimal seconds (timeupdate, AVPlayer), with float noise: any
// number, timed in whole milliseconds (libs/money wholeMilliseconds: half up) and stored so, from `min` to `max`
// seconds once rounded. The stored 1830.417 reads back as the same milliseconds, and resending 9.985000000000014
// for 9.985 is the same content.
const decimalSeconds = (min: string, max: number) => {
  const rule = `must be a number of seconds from ${min} to ${max} (timed in whole milliseconds, rounded half up)`;
  const [low, high] = [BigInt(Math.round(Number(min) * 1000)), BigInt(max) * 1000n];
  const inRange = (v: number) => {
    if (!Number.isFinite(v) || v < 0) return false;
    const ms = wholeMilliseconds(v);
    return ms >= low && ms <= high;
  };
  return z
    .number({ error: rule })
    .refine(inRange, { error: rule })
    .describe(`Seconds from ${min} to ${max}, any decimal: timed in whole milliseconds, rounded half up`)
    .transform((v) => Number(wholeMilliseconds(v)) / 1000);
};

// Why the worker would not read a feed at `feedUrl` (undefined: it would): it must parse as an http(s) URL with a
// host and no credentials (the guarded outbound client sends none).
export function feedUrlProblem(feedUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(feedUrl);
  } catch {
    return 'must be an http(s) URL: the feed the value block is read from';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http(s) URL: the feed the value block is read from';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (user:password@): feeds are read without them';
  return undefined;
}

// The app's own stable id for the listener (opaque to us): the key of the per-listener daily spend cap.
export const listenerIdSchema = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 printable ASCII characters without spaces (e.g. a UUID or a hash)');

// The app's own id for an event or a boost: any text of 1 to 128 characters (field-docs would otherwise give it the
// database-id pattern).
export const appsOwnId = (example: string) =>
  z
    .string({ error: 'must be a string of 1 to 128 characters' })
    .min(1, 'must be a string of 1 to 128 characters')
    .max(128, 'must be a string of 1 to 128 characters')
    .meta({ example, pattern: '^[\\s\\S]{1,128}$' });

// What an event (or a boost) says about the episode and where in it the listener was.
export const episodeFields = {
  feedGuid: z.string({ error: 'is required (the podcast:guid)' }).min(1, 'is required (the podcast:guid)').max(256),
  itemGuid: z.string({ error: 'is required (the episode guid)' }).min(1, 'is required (the episode guid)').max(256),
  feedTitle: optionalText(1024),
  itemTitle: optionalText(1024),
  feedUrl: optionalText(2048),
  feedId: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
  itemId: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
  position: decimalSeconds('0', 7 * 24 * 3600),
};

// One listening event with its value block judged by `value` (the block schema, or a block judged before).
const eventSchemaWith = <V extends z.ZodType<ValueBlock, unknown>>(value: V) =>
  strictObject({
    id: appsOwnId('app-generated-unique-id-1'),
    ...episodeFields,
    seconds: decimalSeconds('0.001', 3600),
    satsPerMinute: wholeNumber(1, 100_000),
    senderName: optionalText(256),
    appName: optionalText(256),
    appVersion: optionalText(64),
    // The app's own stable id for the listener (opaque to us): the key of the per-listener daily spend cap.
    listenerId: listenerIdSchema.optional(),
    // Left out, the worker finds the block itself: in the feed at feedUrl, else in the Podcast Index by the GUIDs
    // (README: value blocks by reference).
    value: value.optional(),
  })
    // Every keysend for this event carries these identifiers whole in its bLIP-10 record: refuse an event whose
    // record could never fit, naming the longest identifier, rather than accept money that can never be paid.
    .superRefine((event, ctx) => {
      // An accepted event is owed something: listening shorter than 1 msat at its rate (0.001 s at 1 sat/min) is
      // refused rather than stored, charged and split as nothing.
      // (Refinements run also when a field broke its rule: the worth is judged only from valid fields.)
      const valid =
        Number.isSafeInteger(event.satsPerMinute) &&
        event.satsPerMinute > 0 &&
        typeof event.seconds === 'number' &&
        Number.isFinite(event.seconds) &&
        event.seconds >= 0 &&
        wholeMilliseconds(event.seconds) >= 1n;
      if (valid && eventAmountMsat(event.satsPerMinute, event.seconds) === 0n) {
        const minMs = Math.ceil(60 / event.satsPerMinute);
        ctx.addIssue({
          code: 'custom',
          path: ['seconds'],
          message: `worth 0 msat: ${event.seconds} seconds at ${event.satsPerMinute} sats per minute is less than 1 msat; send at least ${minMs} ms of listening in one event`,
        });
      }
      const feedUrlIssue = event.value === undefined && event.feedUrl !== undefined ? feedUrlProblem(event.feedUrl) : undefined;
      if (feedUrlIssue) ctx.addIssue({ code: 'custom', path: ['feedUrl'], message: feedUrlIssue });
      const value = event.value ?? { timeSplits: [] };
      const candidates: { path: (string | number)[]; text: string }[] = [
        { path: ['feedGuid'], text: event.feedGuid },
        { path: ['itemGuid'], text: event.itemGuid },
      ];
      const blocks = [{}, ...value.timeSplits.map((s) => ({ remoteFeedGuid: s.remoteFeedGuid, remoteItemGuid: s.remoteItemGuid }))];
      const named = new Set<string>();
      blocks.forEach((remote, k) => {
        const bytes = minimalBlip10Bytes({ feedGuid: event.feedGuid, itemGuid: event.itemGuid, ...remote });
        if (bytes <= BLIP10_MAX_BYTES) return;
        const fields = [...candidates];
        if (k > 0) {
          for (const key of ['remoteFeedGuid', 'remoteItemGuid'] as const) {
            const text = (remote as Record<string, string | undefined>)[key];
            if (text !== undefined) fields.push({ path: ['value', ...sentPath(event.value!, ['timeSplits', k - 1, key])], text });
          }
        }
        const longest = fields.reduce((a, b) => (JSON.stringify(b.text).length > JSON.stringify(a.text).length ? b : a));
        if (named.has(longest.path.join('.'))) return;
        named.add(longest.path.join('.'));
        ctx.addIssue({
          code: 'custom',
          path: longest.path,
          message: `too long: with the episode's other identifiers it cannot fit the ${BLIP10_MAX_BYTES}-byte bLIP-10 record every keysend carries (${bytes} bytes)`,
        });
      });
    });

// One listening event as podcast apps send it (README: POST /v1/events).
export const listeningEventSchema = eventSchemaWith(valueBlockSchema);

// The events of a request, and of an app's next requests, name the same few value blocks: a block's judgement is a
// pure function of its JSON text, so a block judged valid once is remembered by that text (its output frozen and
// shared, with the output's own text for the payload), and an event naming it again skips the block schema; the
// event's own checks, the bLIP-10 record's size with the block's remote items among them, still run on every event.
// Bounded by the texts' size (sent and judged); a block that failed is never remembered (its issues are reported
// in full each time).
const REMEMBERED_BLOCK_CHARS = 4 * 1024 * 1024;
interface JudgedBlock {
  block: ValueBlock;
  text: string; // JSON.stringify(block)
}
const judgedBlocks = new Map<string, JudgedBlock>();
const blockTexts = new WeakMap<ValueBlock, string>();
let judgedChars = 0;
// The block sent last that was found judged: the next event most likely sends the same, which comparing the two
// tells without writing the block's text (its hashing and garbage were a third of an event's parse).
let lastSent: unknown;
let lastJudged: JudgedBlock | undefined;
// The block judged before, for the one synchronous parse that names it (its text is computed at most once per event).
let judgedBlock: ValueBlock | undefined;
const listeningEventWithJudgedBlock = eventSchemaWith(z.unknown().transform(() => judgedBlock!));

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// Whether two values parsed from JSON have the same JSON text (same keys in the same order, same values).
export function sameJsonText(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const [keysA, keysB] = [Object.keys(a), Object.keys(b)];
  if (keysA.length !== keysB.length) return false;
  for (let i = 0; i < keysA.length; i++) {
    const key = keysA[i]!;
    if (key !== keysB[i] || !sameJsonText((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function judgedBefore(sent: object): { judged: JudgedBlock | undefined; text: string | undefined } {
  if (lastJudged !== undefined && sameJsonText(sent, lastSent)) return { judged: lastJudged, text: undefined };
  const text = JSON.stringify(sent);
  const judged = judgedBlocks.get(text);
  if (judged !== undefined) [lastSent, lastJudged] = [sent, judged];
  return { judged, text };
}

function remember(text: string, block: ValueBlock): void {
  if (judgedChars + text.length > REMEMBERED_BLOCK_CHARS) {
    judgedBlocks.clear();
    judgedChars = 0;
  }
  const judged = { block: deepFreeze(block), text: JSON.stringify(block) };
  judgedBlocks.set(text, judged);
  blockTexts.set(block, judged.text);
  judgedChars += text.length + judged.text.length;
}

// listeningEventSchema.safeParse of an event parsed from JSON, remembering the value blocks it judged valid.
export function parseListeningEvent(raw: unknown): z.ZodSafeParseResult<ListeningEvent> {
  const value = (raw as { value?: unknown } | null)?.value;
  const { judged, text } = value !== null && typeof value === 'object' ? judgedBefore(value) : { judged: undefined, text: undefined };
  judgedBlock = judged?.block;
  if (judgedBlock !== undefined) return listeningEventWithJudgedBlock.safeParse(raw);
  const parsed = listeningEventSchema.safeParse(raw);
  if (parsed.success && parsed.data.value !== undefined && text !== undefined) remember(text, parsed.data.value);
  return parsed;
}

// The event as stored: JSON.stringify(event), with a remembered block's text written once, not once per event.
export function payloadOf(event: ListeningEvent): string {
  const { value, ...fields } = event;
  const blockText = value === undefined ? undefined : blockTexts.get(value);
  if (blockText === undefined) return JSON.stringify(event);
  return `${JSON.stringify(fields).slice(0, -1)},"value":${blockText}}`;
}

// Checking a node id on the curve costs about 80 microseconds the first time: a request may name at most this many
// distinct node ids (in all its events' value blocks together), so no request holds the api for long. Apps resend
// the same few recipients, so real batches stay far below it.
export const MAX_REQUEST_NODE_KEYS = 1_000;

// How many distinct node-recipient addresses (in any case) a request names, read from its raw events before any of
// them is validated, in every recipient list of the three value-block shapes (recipients, destinations, each time
// split's). Addresses are compared as sent first: writing them in one case can only merge some.
function distinctNodeKeys(events: unknown[]): number {
  const sent = new Set<string>();
  const add = (recipients: unknown) => {
    if (!Array.isArray(recipients)) return;
    for (const r of recipients as { type?: unknown; address?: unknown }[]) {
      if (r?.type === 'node' && typeof r.address === 'string') sent.add(r.address);
    }
  };
  const addEach = (splits: unknown) => {
    if (Array.isArray(splits)) for (const split of splits as { recipients?: unknown }[]) add(split?.recipients);
  };
  type RawBlock = { recipients?: unknown; destinations?: unknown; timeSplits?: unknown; valueTimeSplits?: unknown };
  for (const event of events as { value?: RawBlock }[]) {
    const value = event?.value;
    add(value?.recipients);
    add(value?.destinations);
    addEach(value?.timeSplits);
    addEach(value?.valueTimeSplits);
  }
  return sent.size <= MAX_REQUEST_NODE_KEYS ? sent.size : new Set([...sent].map((key) => key.toLowerCase())).size;
}

// The request itself: unknown top-level fields ({"events": [...], "batch": 1}) make it invalid as a whole.
export const ingestRequestSchema = strictObject(
  {
    events: z
      .array(z.unknown(), { error: 'must be a list of 1 to 500 events' })
      .min(1, `must be a list of 1 to ${MAX_EVENTS_PER_REQUEST} events`)
      .max(MAX_EVENTS_PER_REQUEST, `must be a list of 1 to ${MAX_EVENTS_PER_REQUEST} events`)
      .superRefine((events, ctx) => {
        const distinct = distinctNodeKeys(events);
        if (distinct > MAX_REQUEST_NODE_KEYS) {
          ctx.addIssue({ code: 'custom', message: `${distinct} distinct node recipients; at most ${MAX_REQUEST_NODE_KEYS} per request are allowed` });
        }
      }),
  },
  { error: 'the body must be a JSON object with an "events" list' },
);

export type ListeningEvent = z.output<typeof listeningEventSchema>;
