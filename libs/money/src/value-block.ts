import { z } from 'zod';
import { Fraction } from './fraction.js';
import { lightningAddressProblem } from './lightning-address.js';
import { isNodePubkey } from './node-key.js';

export const SUPPORTED_TYPES = ['lightning'] as const;
// `lnaddress` blocks (and recipients) name Lightning Addresses; splitstream pays every recipient by its own type.
export const SUPPORTED_METHODS = ['keysend', 'lnaddress'] as const;
export const SUPPORTED_RECIPIENT_TYPES = ['node', 'lnaddress'] as const;
export type RecipientType = (typeof SUPPORTED_RECIPIENT_TYPES)[number];
// A stored recipient's type, from its address: Lightning Addresses hold an @, node pubkeys never do.
export const recipientTypeOf = (address: string): RecipientType => (address.includes('@') ? 'lnaddress' : 'node');
export const MAX_RECIPIENTS = 100;
export const MAX_TIME_SPLITS = 100;
// TLV types splitstream writes itself (bLIP-10 metadata) or that the paying node sets (keysend preimage).
export const RESERVED_CUSTOM_KEYS = ['7629169', '5482373484'] as const;
// Custom TLV records live in the range Lightning leaves to applications: 2^16 up to the largest TLV type.
export const MIN_CUSTOM_KEY = 65_536n;
export const MAX_CUSTOM_KEY = 2n ** 64n - 1n;
export const MAX_CUSTOM_VALUE_BYTES = 256;

const HUNDRED = new Fraction(100n);
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
const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export const recipientSchema = z
  .object({
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
    split: positiveFinite,
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
function checkRecipientList(recipients: z.infer<typeof recipientSchema>[], ctx: z.RefinementCtx, path: (string | number)[]) {
  if (recipients.length === 0) {
    ctx.addIssue({ code: 'custom', path, message: 'at least one recipient is required' });
  }
  if (recipients.length > MAX_RECIPIENTS) {
    ctx.addIssue({ code: 'custom', path, message: `${recipients.length} recipients; at most ${MAX_RECIPIENTS} are allowed` });
  }
}

export const timeSplitSchema = z.object({
  startTime: z.number({ error: 'must be a number of seconds' }).refine((v) => Number.isFinite(v) && v >= 0, {
    error: 'must be a finite number of seconds, 0 or more',
  }),
  duration: positiveFinite,
  // The namespace says values outside 0..100 are clamped; splitstream does the same.
  remotePercentage: z
    .number({ error: 'must be a number from 0 to 100' })
    .refine(Number.isFinite, { error: 'must be a number from 0 to 100' })
    .transform((v) => Math.min(100, Math.max(0, v)))
    .optional()
    .default(100),
  remoteFeedGuid: text(256).optional(),
  remoteItemGuid: text(256).optional(),
  recipients: z.array(recipientSchema, { error: 'must be a list of recipients' }),
});

export const valueBlockSchema = z
  .object({
    type: oneOf('value type', SUPPORTED_TYPES),
    method: oneOf('value method', SUPPORTED_METHODS),
    recipients: z.array(recipientSchema, { error: 'must be a list of recipients' }),
    timeSplits: z
      .array(timeSplitSchema, { error: 'must be a list of time splits' })
      .max(MAX_TIME_SPLITS, `at most ${MAX_TIME_SPLITS} time splits are allowed`)
      .optional()
      .default([]),
  })
  .superRefine((block, ctx) => {
    checkRecipientList(block.recipients, ctx, ['recipients']);
    // Fees are percentages of the whole amount, summed exactly (33.4 + 66.6 is 100).
    const feeTotal = Fraction.sum(block.recipients.filter((r) => r.fee).map((r) => Fraction.fromDecimal(r.split)));
    if (feeTotal.compare(HUNDRED) > 0) {
      ctx.addIssue({ code: 'custom', path: ['recipients'], message: `fee splits add up to ${feeTotal.toDecimal()}, more than 100` });
    }
    if (block.recipients.length > 0 && block.recipients.every((r) => r.fee)) {
      ctx.addIssue({ code: 'custom', path: ['recipients'], message: 'at least one recipient without fee is required' });
    }
    block.timeSplits.forEach((split, index) => {
      const path = ['timeSplits', index, 'recipients'];
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
  });

export type ValueRecipient = z.output<typeof recipientSchema>;
export type TimeSplit = z.output<typeof timeSplitSchema>;
export type ValueBlock = z.output<typeof valueBlockSchema>;
export type ValueBlockInput = z.input<typeof valueBlockSchema>;

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
