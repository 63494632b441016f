import { z } from 'zod';
import { DECIMAL_PLACES, hasBoundedDecimals, MICRO, microUnits } from './fraction.js';
import { lightningAddressProblem } from './lightning-address.js';
import { isNodePubkey } from './node-key.js';
import { strictObject } from './strict-object.js';

export const SUPPORTED_TYPES = ['lightning'] as const;
// `lnaddress` blocks (and recipients) name Lightning Addresses; splitstream pays every recipient by its own type.
export const SUPPORTED_METHODS = ['keysend', 'lnaddress'] as const;
export const SUPPORTED_RECIPIENT_TYPES = ['node', 'lnaddress'] as const;
export type RecipientType = (typeof SUPPORTED_RECIPIENT_TYPES)[number];
// A stored recipient's type, from its address: Lightning Addresses hold an @, node pubkeys never do.
export const recipientTypeOf = (address: string): RecipientType => (address.includes('@') ? 'lnaddress' : 'node');
// Limits that bound what one event costs to validate, split and book (bench: "split cost").
export const MAX_RECIPIENTS = 100; // per list: the default block, each time split
export const MAX_TIME_SPLITS = 100;
export const MAX_BLOCK_RECIPIENTS = 300; // the default block and all its time splits together
export const MAX_ADDRESS_RECIPIENTS = 10; // distinct Lightning Addresses in one event's value block
// A split is a share, a decimal from 0 to MAX_SPLIT with at most DECIMAL_PLACES places (so shares are integers in
// millionths and every total stays small); 0 is allowed and receives nothing.
export const MAX_SPLIT = 1_000_000;
export const SPLIT_RULE = `a decimal from 0 to ${MAX_SPLIT} with at most ${DECIMAL_PLACES} decimal places`;
// TLV types splitstream writes itself (bLIP-10 metadata) or that the paying node sets (keysend preimage).
export const RESERVED_CUSTOM_KEYS = ['7629169', '5482373484'] as const;
// Custom TLV records live in the range Lightning leaves to applications: 2^16 up to the largest TLV type.
export const MIN_CUSTOM_KEY = 65_536n;
export const MAX_CUSTOM_KEY = 2n ** 64n - 1n;
export const MAX_CUSTOM_VALUE_BYTES = 256;

const HUNDRED_PERCENT = 100n * MICRO;
const DECIMAL_INTEGER = /^[0-9]{1,20}$/;
const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

// Why a customKey cannot be a recipient's TLV type, or undefined when it can.
export function customKeyProblem(key: string): string | undefined {
  if (!DECIMAL_INTEGER.test(key)) return 'must be a decimal integer';
  const type = BigInt(key);
  if (type < MIN_CUSTOM_KEY || type > MAX_CUSTOM_KEY) return `must be a TLV type from ${MIN_CUSTOM_KEY} to ${MAX_CUSTOM_KEY}`;
  if ((RESERVED_CUSTOM_KEYS as readonly string[]).includes(String(type))) return `${type} is reserved and cannot be a recipient's key`;
  return undefined;
}

const oneOf = (label: string, supported: readonly string[]) =>
  z.string({ error: `must be a string; supported: ${supported.join(', ')}` }).refine((v) => supported.includes(v), {
    error: (issue) => `unsupported ${label} ${JSON.stringify(issue.input)}; supported: ${supported.join(', ')}`,
  });

const positiveFinite = z.number({ error: 'must be a positive finite number' }).refine((v) => Number.isFinite(v) && v > 0, {
  error: 'must be a positive finite number',
});
const notSplit = (issue: { input: unknown }) => `${String(issue.input)} is not ${SPLIT_RULE}`;
const split = z
  .number({ error: `must be ${SPLIT_RULE}` })
  .min(0, { error: notSplit, abort: true })
  .max(MAX_SPLIT, { error: notSplit, abort: true })
  .refine(hasBoundedDecimals, { error: notSplit })
  .describe(`A share of the list's money: ${SPLIT_RULE} (as JSON writes the number: 1e-7 is refused); 0 receives nothing`);
const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export const recipientSchema = strictObject({
  name: text(256).optional(),
  type: oneOf('recipient type', SUPPORTED_RECIPIENT_TYPES),
  // Hex pubkeys and Lightning Addresses compare case-insensitively; stored lowercase so one node or address is
  // one recipient.
  address: z.string({ error: 'is required' }).transform((a) => a.toLowerCase()),
  customKey: z.string({ error: 'must be a string of decimal digits' }).optional(),
  customValue: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .refine((v) => utf8Bytes(v) <= MAX_CUSTOM_VALUE_BYTES, `must be at most ${MAX_CUSTOM_VALUE_BYTES} bytes of UTF-8`)
    .optional(),
  split,
  fee: z.boolean({ error: 'must be true or false' }).optional().default(false),
})
  .superRefine((r, ctx) => {
    if (r.type === 'node' && !isNodePubkey(r.address)) {
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: 'must be a compressed secp256k1 public key: 66 hex characters starting with 02 or 03, a point on the curve',
      });
    }
    const addressProblem = r.type === 'lnaddress' ? lightningAddressProblem(r.address) : undefined;
    if (addressProblem) ctx.addIssue({ code: 'custom', path: ['address'], message: addressProblem });
    if (r.type === 'lnaddress' && (r.customKey !== undefined || r.customValue !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [r.customKey !== undefined ? 'customKey' : 'customValue'],
        message: "applies to node recipients only: a Lightning Address's custom records come from its keysend endpoint",
      });
    }
    const keyProblem = r.customKey === undefined ? undefined : customKeyProblem(r.customKey);
    if (keyProblem) ctx.addIssue({ code: 'custom', path: ['customKey'], message: keyProblem });
    if (r.customKey !== undefined && r.customValue === undefined) {
      ctx.addIssue({ code: 'custom', path: ['customValue'], message: 'is required when customKey is set' });
    }
    if (r.customValue !== undefined && r.customKey === undefined) {
      ctx.addIssue({ code: 'custom', path: ['customKey'], message: 'is required when customValue is set' });
    }
  })
  // One spelling per TLV type ("0696969" is 696969), so one wallet is one recipient.
  .transform((r) => (r.customKey === undefined ? r : { ...r, customKey: BigInt(r.customKey).toString() }));

export const recipientIdentity = (r: { address: string; customKey?: string; customValue?: string }): string =>
  JSON.stringify([r.address, r.customKey ?? null, r.customValue ?? null]);

// Rules every list of recipients obeys, in the default block and in each time split. A recipient listed twice
// (a podcaster and its host on one node) is allowed: it is paid the sum of its shares.
// `sharing` (`what`) divide the list's money by their splits: at least one must have a split above 0.
function checkRecipientList(
  recipients: z.infer<typeof recipientSchema>[],
  ctx: z.RefinementCtx,
  path: (string | number)[],
  [sharing, what]: [z.infer<typeof recipientSchema>[], string] = [recipients, 'recipient'],
) {
  if (recipients.length === 0) {
    ctx.addIssue({ code: 'custom', path, message: 'at least one recipient is required' });
  }
  if (recipients.length > MAX_RECIPIENTS) {
    ctx.addIssue({ code: 'custom', path, message: `${recipients.length} recipients; at most ${MAX_RECIPIENTS} per list are allowed` });
  }
  // (A split that breaks the rule is reported on its own path.)
  const splitsValid = sharing.every((r) => hasBoundedDecimals(r.split) && r.split >= 0);
  if (recipients.length > 0 && splitsValid && !sharing.some((r) => r.split > 0)) {
    ctx.addIssue({ code: 'custom', path, message: `at least one ${what}, with a split above 0, is required` });
  }
}

// The limits on the whole block: recipients of all lists together, distinct Lightning Addresses.
function checkBlockLimits(lists: z.infer<typeof recipientSchema>[][], ctx: z.RefinementCtx, field: string) {
  const all = lists.flat();
  if (all.length > MAX_BLOCK_RECIPIENTS) {
    ctx.addIssue({
      code: 'custom',
      path: [field],
      message: `${all.length} recipients in the block and its time splits together; at most ${MAX_BLOCK_RECIPIENTS} are allowed`,
    });
  }
  const addresses = new Set(all.filter((r) => r.type === 'lnaddress').map((r) => r.address));
  if (addresses.size > MAX_ADDRESS_RECIPIENTS) {
    ctx.addIssue({
      code: 'custom',
      path: [field],
      message: `${addresses.size} distinct Lightning Address recipients; at most ${MAX_ADDRESS_RECIPIENTS} per event are allowed`,
    });
  }
}

const startTime = z.number({ error: 'must be a number of seconds' }).refine((v) => Number.isFinite(v) && v >= 0, {
  error: 'must be a finite number of seconds, 0 or more',
});
// The namespace says values outside 0..100 are clamped; splitstream does the same, to a bounded decimal.
const remotePercentage = z
  .number({ error: `must be a number from 0 to 100 with at most ${DECIMAL_PLACES} decimal places` })
  .refine(hasBoundedDecimals, { error: `must be a number from 0 to 100 with at most ${DECIMAL_PLACES} decimal places` })
  .describe(`Percent of each second's money for this segment's recipients: at most ${DECIMAL_PLACES} decimal places; clamped to 0..100`)
  .transform((v) => Math.min(100, Math.max(0, v)))
  .optional()
  .default(100);
const recipientList = z.array(recipientSchema, {
  error: (issue) => (issue.input === undefined ? 'is required: a list of recipients' : 'must be a list of recipients'),
});
const blockType = oneOf('value type', SUPPORTED_TYPES);
const blockMethod = oneOf('value method', SUPPORTED_METHODS);
// podcast:value's suggested amount per payment: accepted, not used (listeners' apps choose satsPerMinute). The
// feed writes text; partytime parses it to a number (5e-8), the Podcast Index API returns the text.
const suggested = z
  .union([text(64), z.number().refine(Number.isFinite).meta({ example: 5e-8 })], { error: 'must be a decimal amount, as text or a number' })
  .optional();

export const timeSplitSchema = strictObject({
  startTime,
  duration: positiveFinite,
  remotePercentage,
  remoteFeedGuid: text(256).optional(),
  remoteItemGuid: text(256).optional(),
  recipients: recipientList,
});

export type ValueRecipient = z.output<typeof recipientSchema>;
export type TimeSplit = z.output<typeof timeSplitSchema>;
export interface ValueBlock {
  type: string;
  method: string;
  recipients: ValueRecipient[];
  timeSplits: TimeSplit[];
}

// Where a shape keeps the block's recipients and time splits, so each rule names the field the app sent.
interface BlockFields {
  recipients: string;
  timeSplits: string;
}

// The rules of a whole block, checked on the one internal shape whatever shape it came in.
const blockRules =
  (fields: BlockFields) =>
  (block: ValueBlock, ctx: z.RefinementCtx): void => {
    // The default block's fee recipients take a percentage first; the others share the rest.
    checkRecipientList(block.recipients, ctx, [fields.recipients], [block.recipients.filter((r) => !r.fee), 'recipient without fee']);
    checkBlockLimits([block.recipients, ...block.timeSplits.map((s) => s.recipients)], ctx, fields.recipients);
    // Fees are percentages of the whole amount, summed exactly (33.4 + 66.6 is 100).
    const feeSplits = block.recipients.filter((r) => r.fee && hasBoundedDecimals(r.split)).map((r) => microUnits(r.split));
    const feeTotal = feeSplits.reduce((a, b) => a + b, 0n);
    if (feeTotal > HUNDRED_PERCENT) {
      const percent = `${feeTotal / MICRO}.${String(feeTotal % MICRO).padStart(6, '0')}`.replace(/\.?0+$/, '');
      ctx.addIssue({ code: 'custom', path: [fields.recipients], message: `fee splits add up to ${percent}, more than 100` });
    }
    block.timeSplits.forEach((split, index) => {
      const path = [fields.timeSplits, index, 'recipients'];
      checkRecipientList(split.recipients, ctx, path);
      split.recipients.forEach((r, i) => {
        if (r.fee) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, i, 'fee'],
            message: 'fee recipients belong in the default block; its fee recipients are paid first in every segment',
          });
        }
      });
    });
  };

const timeSplitList = <T extends z.ZodType>(split: T) =>
  z.array(split, { error: 'must be a list of time splits' }).max(MAX_TIME_SPLITS, `at most ${MAX_TIME_SPLITS} time splits are allowed`).optional().default([]);

// (1) splitstream's own shape, the one stored and split.
const nativeValueBlockSchema = strictObject({
  type: blockType,
  method: blockMethod,
  // podcast:value carries it on every block, so apps copying the feed's attributes send it with timeSplits too.
  suggested,
  recipients: recipientList,
  timeSplits: timeSplitList(timeSplitSchema),
})
  .superRefine(blockRules({ recipients: 'recipients', timeSplits: 'timeSplits' }))
  .transform(({ type, method, recipients, timeSplits }): ValueBlock => ({ type, method, recipients, timeSplits }));

// (2) As podcast-partytime parses a feed's podcast:value (its Phase4Value): time splits are `valueTimeSplits`,
// each either a remote item (whose recipients the app reads from that item's own feed and adds here) or a list of
// recipients. remoteStartTime and the remote item's url, title and medium are accepted and not used.
const partytimeTimeSplitSchema = strictObject({
  type: z.enum(['remoteItem', 'recipients'], { error: 'must be "remoteItem" or "recipients"' }).optional(),
  startTime,
  duration: positiveFinite,
  remoteStartTime: startTime.optional(),
  remotePercentage,
  remoteItem: strictObject({
    feedGuid: z.string({ error: 'is required (the remote podcast:guid)' }).max(256, 'must be at most 256 characters'),
    itemGuid: text(256).optional(),
    feedUrl: text(2048).optional(),
    title: text(1024).optional(),
    medium: text(64).optional(),
  }).optional(),
  recipients: z.array(recipientSchema, {
    error: (issue) =>
      issue.input === undefined
        ? "is required: the remote item's recipients, from its own feed's value block (partytime leaves them to the app)"
        : 'must be a list of recipients',
  }),
}).transform(({ startTime, duration, remotePercentage, remoteItem, recipients }): TimeSplit => ({
  startTime,
  duration,
  remotePercentage,
  ...(remoteItem && { remoteFeedGuid: remoteItem.feedGuid }),
  ...(remoteItem?.itemGuid !== undefined && { remoteItemGuid: remoteItem.itemGuid }),
  recipients,
}));

const partytimeValueBlockSchema = strictObject({
  type: blockType,
  method: blockMethod,
  suggested,
  recipients: recipientList,
  valueTimeSplits: timeSplitList(partytimeTimeSplitSchema),
})
  .transform(({ type, method, recipients, valueTimeSplits }): ValueBlock => ({ type, method, recipients, timeSplits: valueTimeSplits }))
  .superRefine(blockRules({ recipients: 'recipients', timeSplits: 'valueTimeSplits' }));

// (3) As the Podcast Index API returns a feed's value (podcasts/byfeedid, value/byfeedid): the block's type and
// method under `model`, its recipients as `destinations`. The API carries no time splits.
const podcastIndexValueBlockSchema = strictObject({
  model: strictObject({ type: blockType, method: blockMethod, suggested }),
  destinations: recipientList,
})
  .transform(({ model, destinations }): ValueBlock => ({ type: model.type, method: model.method, recipients: destinations, timeSplits: [] }))
  .superRefine(blockRules({ recipients: 'destinations', timeSplits: 'timeSplits' }));

type ValueBlockShape = 'native' | 'partytime' | 'podcastIndex';
const SHAPES = { native: nativeValueBlockSchema, partytime: partytimeValueBlockSchema, podcastIndex: podcastIndexValueBlockSchema };

// Which shape a block is in, by the fields only that shape has: Podcast Index's model/destinations, partytime's
// valueTimeSplits; any other block (with timeSplits, or none) is splitstream's own.
function valueBlockShapeOf(input: unknown): ValueBlockShape {
  if (!isRecord(input)) return 'native';
  if ('model' in input || 'destinations' in input) return 'podcastIndex';
  if ('valueTimeSplits' in input && !('timeSplits' in input)) return 'partytime';
  return 'native';
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// Where each shape keeps its lists, with their limits: checked on the raw block before any element is parsed, so a
// list of 100 000 junk recipients costs one issue, not 100 000 parses and their issues.
const LISTS: Record<ValueBlockShape, { recipients: string; timeSplits?: string }> = {
  native: { recipients: 'recipients', timeSplits: 'timeSplits' },
  partytime: { recipients: 'recipients', timeSplits: 'valueTimeSplits' },
  podcastIndex: { recipients: 'destinations' },
};

function listLengthIssues(block: Record<string, unknown>, shape: ValueBlockShape): { path: (string | number)[]; message: string }[] {
  const { recipients, timeSplits } = LISTS[shape];
  const issues: { path: (string | number)[]; message: string }[] = [];
  const check = (list: unknown, path: (string | number)[], max: number, what: string) => {
    if (Array.isArray(list) && list.length > max) issues.push({ path, message: `${list.length} ${what}; at most ${max} per list are allowed` });
  };
  check(block[recipients], [recipients], MAX_RECIPIENTS, 'recipients');
  if (timeSplits === undefined) return issues;
  const splits = block[timeSplits];
  check(splits, [timeSplits], MAX_TIME_SPLITS, 'time splits');
  if (Array.isArray(splits) && splits.length <= MAX_TIME_SPLITS) {
    splits.forEach((split, index) => check(isRecord(split) ? split.recipients : undefined, [timeSplits, index, 'recipients'], MAX_RECIPIENTS, 'recipients'));
  }
  return issues;
}

// The shape each parsed block came in, so rules checked on the whole event (the bLIP-10 record) can name the
// field the app sent.
const shapeOfBlock = new WeakMap<ValueBlock, ValueBlockShape>();

// A field of the internal block (['timeSplits', 2, 'remoteFeedGuid']) on the path the app sent it.
export function sentPath(block: ValueBlock, path: (string | number)[]): (string | number)[] {
  const shape = shapeOfBlock.get(block);
  if (shape !== 'partytime' || path[0] !== 'timeSplits') return path;
  const [, index, field, ...rest] = path;
  const remote = { remoteFeedGuid: ['remoteItem', 'feedGuid'], remoteItemGuid: ['remoteItem', 'itemGuid'] }[field as string];
  return ['valueTimeSplits', index!, ...(remote ?? (field === undefined ? [] : [field])), ...rest];
}

// A value block in any of the three shapes, checked by the rules of its own shape (issues name its own fields)
// and mapped to the one internal shape. The OpenAPI document shows the three shapes (the input side of each).
export const valueBlockSchema = z
  .unknown()
  .transform((input, ctx): ValueBlock => {
    // A whole Podcast Index API answer pasted for its block (status, query, value, description): say so once.
    if (isRecord(input) && isRecord(input.value) && ('status' in input || 'query' in input)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'this is a whole Podcast Index API answer: send its "value" field as the value block' });
      return z.NEVER;
    }
    const shape = valueBlockShapeOf(input);
    const tooLong = isRecord(input) ? listLengthIssues(input, shape) : [];
    for (const issue of tooLong) ctx.addIssue({ code: 'custom', ...issue });
    if (tooLong.length) return z.NEVER;
    const result = SHAPES[shape].safeParse(input);
    if (result.success) {
      shapeOfBlock.set(result.data, shape);
      return result.data;
    }
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  })
  .meta({
    anyOf: Object.values(SHAPES).map((shape) => z.toJSONSchema(shape, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' })),
  });

export type ValueBlockInput = z.input<typeof nativeValueBlockSchema>;

export interface ValidationIssue {
  path: string;
  message: string;
}

export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');

export const toIssues = (error: z.ZodError, prefix: readonly PropertyKey[] = []): ValidationIssue[] =>
  error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: issue.message }));

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

export function parseValueBlock(input: unknown): ParseResult<ValueBlock> {
  const result = valueBlockSchema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: toIssues(result.error) };
}
