// Every field of the OpenAPI document gets a real example, and every identifier, amount, key, hash and time a
// pattern or format, from this one table keyed by field name. A name that means two things is keyed by its
// parent too ("value.type" is the value block's type, "recipients[].type" a recipient's); that entry wins.
// Building the document fails on a field missing here, so a new field cannot go out undocumented.

import { EXAMPLE_BOOST, EXAMPLE_EVENT, EXAMPLE_RECIPIENTS } from './examples.js';

const PUBKEY = EXAMPLE_RECIPIENTS[0]!;
const DATABASE_ID = '^[1-9][0-9]{0,18}$';
const HEX_32_BYTES = '^[0-9a-f]{64}$';
const TIME = '2026-11-29T14:00:00.000Z';
const UTC_DAY = '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2}))?$';

interface FieldDoc {
  example: unknown;
  pattern?: string;
  format?: string;
  enum?: readonly string[]; // for a field the code checks with a refinement (which JSON Schema cannot show)
}

const id = (example: string): FieldDoc => ({ example, pattern: DATABASE_ID });
// A list's opaque cursor (see Cursors in apps/api/src/http/cursors.ts): pass nextBefore back as `before`.
const cursor: FieldDoc = { example: 'Xq3vK9a1Lw0bT7yH2mRc5dNfEjUoP8sZiG4kB6nAtV_-Q1wE', pattern: '^[A-Za-z0-9_-]{48}$' };
const time: FieldDoc = { example: TIME, format: 'date-time' };
const msat = (example: string): FieldDoc => ({ example });
const count = (example: number): FieldDoc => ({ example });
const text = (example: string): FieldDoc => ({ example });

// An event's id is the app's own (1 to 128 characters, unique per app), not a database id.
const eventId = text(EXAMPLE_EVENT.id);
const oneOf = (values: readonly string[]): FieldDoc => ({ example: values[0], enum: values });

export const FIELD_DOCS: Record<string, FieldDoc> = {
  // identifiers
  id: id('42'),
  'events.id': eventId, // GET /v1/events/{id}: the event itself, and its path parameter
  'events[].id': eventId, // POST /v1/events: each event sent, and each event answered
  payoutId: id('7'),
  payout: id('7'),
  recipient: id('42'),
  keyId: id('3'),
  paymentId: id('1207'),
  jobId: { example: 'reconcile-request-0b6f1c3e-8d2a-4f57-9a41-3c5e2d7f9b10', pattern: '^reconcile-request-[0-9a-f-]{36}$' },
  nextBefore: cursor,
  href: { example: '/v1/events/ev-7f3a9c?app=podverse', pattern: '^/v1/events/[^?]+\\?app=.+$' },
  // A Lightning address in any case (the service lowercases it).
  address: { example: PUBKEY, pattern: '^(0[23][0-9a-fA-F]{64}|[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+)$' },
  destination: { example: PUBKEY, pattern: '^0[23][0-9a-f]{64}$' },
  invoice: text('lnbc210n1p5...'),
  customKey: { example: '696969', pattern: '^[0-9]+$' },
  customValue: text('eChoQ5y2Rne1T3JX4Yo7'),
  paymentHash: { example: 'a5b3f1c0d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f', pattern: HEX_32_BYTES },
  preimage: { example: '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0', pattern: HEX_32_BYTES },
  reference: { example: '6f1d2c3b-4a59-4e87-9d6c-5b4a39281706', format: 'uuid' },
  feedGuid: text(EXAMPLE_EVENT.feedGuid),
  itemGuid: text(EXAMPLE_EVENT.itemGuid),
  remoteFeedGuid: text('6dfbd8e4-3e5f-5d6a-9a3f-3b3d4b8e2e8a'),
  remoteItemGuid: text('track-07'),
  listenerId: text(EXAMPLE_EVENT.listenerId),
  app: text('podverse'),
  feedId: count(920666),
  itemId: count(14961436154),
  // money: msat as decimal strings (exact beyond 2^53); sats as integers
  accruedMsat: msat('1250000'),
  owedMsat: msat('3450'),
  inFlightMsat: msat('21000'),
  parkedMsat: msat('0'),
  paidMsat: msat('1225000'),
  amountMsat: msat('21000'),
  eventsMsat: msat('1250000'),
  feeMsat: msat('1000'),
  feesMsat: msat('12000'),
  dayMsat: msat('50000000'),
  monthMsat: msat('1000000000'),
  listenerDayMsat: msat('2000000'),
  todayMsat: msat('1830000'),
  thisMonthMsat: msat('61200000'),
  owedAtLeastMsat: msat('1000'),
  amountSats: count(21),
  feeSats: count(1),
  feesSats: count(12),
  paidSats: count(1225),
  sats: count(1250),
  satsPerMinute: count(10),
  // times
  createdAt: time,
  receivedAt: time,
  appliedAt: time,
  startedAt: time,
  sentAt: time,
  finishedAt: time,
  resolvedAt: time,
  checkedAt: time,
  at: time,
  parkedAt: time,
  nextAttemptAt: time,
  hour: time,
  from: time,
  to: { example: '2026-12-01T00:00:00.000Z', format: 'date-time' },
  // A statement's period: whole UTC days (a date, or its midnight as a date-time).
  'recipients.from': { example: '2026-11-01', pattern: UTC_DAY },
  'recipients.to': { example: '2026-12-01', pattern: UTC_DAY },
  since: time,
  until: { example: '2026-12-01T00:00:00.000Z', format: 'date-time' },
  // counts and numbers
  accepted: count(99),
  duplicates: count(1),
  conflicts: count(0),
  rejected: count(1),
  index: count(3),
  attempts: count(1),
  consecutiveFailures: count(0),
  keysends: count(12),
  succeeded: count(10),
  failed: count(1),
  cancelled: count(0),
  unknown: count(1),
  pending: count(0),
  checked: count(3),
  paid: count(2),
  returnedToOwed: count(1),
  resent: count(0),
  stillUnknown: count(0),
  awaitingAccumulation: count(0),
  setAside: count(0),
  position: count(1830),
  seconds: count(60),
  split: count(90),
  startTime: count(120),
  duration: count(245),
  remotePercentage: count(50),
  remoteStartTime: count(12),
  limit: count(20),
  before: cursor,
  hours: count(24),
  // flags
  fee: { example: false },
  parked: { example: false },
  empty: { example: false },
  ok: { example: true },
  changed: { example: true },
  // free text (feeds and wallets write these; no pattern would be true of them)
  name: text('Podcasting 2.0 Host'),
  feedTitle: text(EXAMPLE_EVENT.feedTitle),
  itemTitle: text(EXAMPLE_EVENT.itemTitle),
  feedUrl: { example: 'https://feeds.podcastindex.org/pc20.xml', format: 'uri' },
  senderName: text(EXAMPLE_EVENT.senderName),
  appName: text(EXAMPLE_EVENT.appName),
  appVersion: text('4.16.2'),
  type: text('node'),
  method: text('keysend'),
  suggested: text('0.00000005000'),
  title: text('Song One'),
  medium: text('music'),
  // The value block as apps send it (podcast:value), checked by refinements: libs/money's SUPPORTED_TYPES,
  // SUPPORTED_METHODS and SUPPORTED_RECIPIENT_TYPES (the examples e2e test sends these).
  'value.type': oneOf(['lightning']),
  'value.method': oneOf(['keysend', 'lnaddress']),
  // The same under the Podcast Index shape's `model`.
  'model.type': oneOf(['lightning']),
  'model.method': oneOf(['keysend', 'lnaddress']),
  'recipients[].type': oneOf(['node', 'lnaddress']),
  simulated: { example: false },
  message: text('the request is invalid; nothing was changed'),
  path: text('events[3].value.recipients[0].address'),
  lastErrorCode: text('10'),
  lastErrorMessage: text('FAILURE_REASON_NO_ROUTE'),
  lastErrorDetail: text('GET https://pods.example/.well-known/lnurlp/alice: connect ECONNREFUSED 203.0.113.7:443'),
  // waiting: why an address recipient's owed money is not being paid yet
  code: text('lnaddress_domain_open'),
  detail: text('b1@pods.example: https://pods.example: no whole answer within the timeout'),
  resolvedBy: text('api key 3 (ops-console)'),
  reason: text('the wallet has no record of it'),
  setAsideReason: text('cannot be split: no recipient has a split above 0'),
  decidedBy: text('api key 3 (ops-console)'),
  walletSaid: text('not in the outgoing payments'),
  rail: text('alby'),
  note: text('the wallet refused the credentials'),
  q: text('podc'),
  'problems[]': text('accrued is not owed + in flight + parked + paid'),
  'scopes[]': { example: 'events:write', pattern: '^[a-z]+(:[a-z]+)?$' },
  // Value blocks by reference: the event view's valueBlock and POST /v1/events/retry.
  retried: count(2),
  boostsRetried: count(0),
  url: { example: 'https://feeds.podcastindex.org/pc20.xml', format: 'uri' },
  fetchedAt: time,
  hash: { example: '9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a3c5b7d9f1e', pattern: HEX_32_BYTES },
  depth: count(1),
  retryAt: time,
  lastError: text('feed https://feeds.example/show.xml answered HTTP 503'),
  // boosts: the app's own id, the boostagram, the reply address, what joined a stream balance
  ...Object.fromEntries(
    ['boosts', 'boost', 'boosts[]'].flatMap((parent) => [
      [`${parent}.id`, { example: EXAMPLE_BOOST.id, pattern: '^[\\s\\S]{1,128}$' }],
      [`${parent}.listenerId`, { example: EXAMPLE_BOOST.listenerId, pattern: '^[\\x21-\\x7e]{1,128}$' }],
      [`${parent}.message`, text(EXAMPLE_BOOST.message)],
      [`${parent}.href`, { example: `/v1/boosts/${EXAMPLE_BOOST.id}?app=podverse`, pattern: '^/v1/boosts/[^?]+\\?app=.+$' }],
    ]),
  ),
  'boosts.recipient': { example: EXAMPLE_RECIPIENTS[0]!, pattern: '^(0[23][0-9a-fA-F]{64}|[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+)$' },
  boostUuid: { example: '3f0c2a7e-9b1d-4c5e-8f6a-0d2b4c6e8a1f', format: 'uuid' },
  replyAddress: { example: EXAMPLE_RECIPIENTS[1]!, pattern: '^(0[23][0-9a-fA-F]{64}|[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+)$' },
  replyCustomKey: { example: '696969', pattern: '^[0-9]+$' },
  replyCustomValue: text('satoshi-wallet'),
  joinedBalanceMsat: msat('700'),
  errorCode: text('10'),
  errorMessage: text('FAILURE_REASON_NO_ROUTE'),
};

type JsonSchema = Record<string, any>;
const SAFE_INTEGER_BOUNDS = [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];

// Adds examples and patterns to a schema's fields, and drops zod's ±2^53 integer bounds (they say nothing).
// `parent` names the object that holds the field (for a schema's root: the route's area, such as "events").
export function documentFields(schema: JsonSchema, name?: string, parent?: string): JsonSchema {
  if (!schema || typeof schema !== 'object') return schema;
  for (const bound of ['maximum', 'minimum'] as const) if (SAFE_INTEGER_BOUNDS.includes(schema[bound])) delete schema[bound];
  const isLeaf = !schema.properties && !schema.items && !schema.anyOf && !schema.oneOf && !schema.allOf && schema.type !== 'object';
  if (name !== undefined && isLeaf && schema.example === undefined) {
    const doc = (parent !== undefined && FIELD_DOCS[`${parent}.${name}`]) || FIELD_DOCS[name];
    if (doc) {
      // A field of the same name that only takes some values (the query's parked: "true" | "false") shows one of them.
      schema.example = schema.enum && !schema.enum.includes(doc.example) ? schema.enum[0] : doc.example;
      if (schema.type === 'string' && !schema.pattern && !schema.format && !schema.enum) {
        if (doc.pattern) schema.pattern = doc.pattern;
        if (doc.format) schema.format = doc.format;
        if (doc.enum) schema.enum = [...doc.enum];
      }
    } else if (schema.enum) {
      schema.example = schema.enum[0];
    } else if (schema.type !== undefined || Object.keys(schema).length > 0) {
      throw new Error(`OpenAPI: the field "${name}" has no entry in FIELD_DOCS`);
    }
  }
  for (const [property, child] of Object.entries<JsonSchema>(schema.properties ?? {})) documentFields(child, property, name ?? parent);
  if (schema.items) documentFields(schema.items, `${name}[]`, parent);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) for (const branch of schema[key] ?? []) documentFields(branch, name, parent);
  return schema;
}
