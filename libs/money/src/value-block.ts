import { z } from 'zod';
import { Fraction } from './fraction.js';

export const SUPPORTED_TYPES = ['lightning'] as const;
export const SUPPORTED_METHODS = ['keysend'] as const;
export const SUPPORTED_RECIPIENT_TYPES = ['node'] as const;
export const MAX_RECIPIENTS = 100;
export const MAX_TIME_SPLITS = 100;
// TLV types splitstream writes itself (bLIP-10 metadata) or that the paying node sets (keysend preimage).
export const RESERVED_CUSTOM_KEYS = ['7629169', '5482373484'] as const;

const HUNDRED = new Fraction(100n);
const COMPRESSED_PUBKEY = /^0[23][0-9a-fA-F]{64}$/;
const DECIMAL_INTEGER = /^[0-9]{1,20}$/;

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
    // Hex pubkeys compare case-insensitively; stored lowercase so one node is one recipient.
    address: z.string({ error: 'is required' }).transform((a) => a.toLowerCase()),
    customKey: z.string({ error: 'must be a string of decimal digits' }).optional(),
    customValue: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(1024, 'must be at most 1024 characters').optional(),
    split: positiveFinite,
    fee: z.boolean({ error: 'must be true or false' }).optional().default(false),
  })
  .superRefine((r, ctx) => {
    if (r.type === 'node' && !COMPRESSED_PUBKEY.test(r.address)) {
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: 'must be a compressed public key: 66 hex characters starting with 02 or 03',
      });
    }
    if (r.customKey !== undefined && !DECIMAL_INTEGER.test(r.customKey)) {
      ctx.addIssue({ code: 'custom', path: ['customKey'], message: 'must be a decimal integer' });
    } else if (r.customKey !== undefined && (RESERVED_CUSTOM_KEYS as readonly string[]).includes(r.customKey)) {
      ctx.addIssue({ code: 'custom', path: ['customKey'], message: `${r.customKey} is reserved and cannot be a recipient's key` });
    }
    if (r.customKey !== undefined && r.customValue === undefined) {
      ctx.addIssue({ code: 'custom', path: ['customValue'], message: 'is required when customKey is set' });
    }
    if (r.customValue !== undefined && r.customKey === undefined) {
      ctx.addIssue({ code: 'custom', path: ['customKey'], message: 'is required when customValue is set' });
    }
  });

export const recipientIdentity = (r: { address: string; customKey?: string; customValue?: string }): string =>
  JSON.stringify([r.address, r.customKey ?? null, r.customValue ?? null]);

// Rules every list of recipients obeys, in the default block and in each time split.
function checkRecipientList(recipients: z.infer<typeof recipientSchema>[], ctx: z.RefinementCtx, path: (string | number)[]) {
  if (recipients.length === 0) {
    ctx.addIssue({ code: 'custom', path, message: 'at least one recipient is required' });
  }
  if (recipients.length > MAX_RECIPIENTS) {
    ctx.addIssue({ code: 'custom', path, message: `${recipients.length} recipients; at most ${MAX_RECIPIENTS} are allowed` });
  }
  const seen = new Map<string, number>();
  recipients.forEach((r, index) => {
    const identity = recipientIdentity(r);
    const first = seen.get(identity);
    if (first === undefined) seen.set(identity, index);
    else
      ctx.addIssue({
        code: 'custom',
        path: [...path, index],
        message: `same address, customKey and customValue as recipients[${first}]`,
      });
  });
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
    timeSplits: z.array(timeSplitSchema, { error: 'must be a list of time splits' })
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
