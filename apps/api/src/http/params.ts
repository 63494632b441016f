import { z } from 'zod';
import { AppError } from '@splitstream/errors';
import { strictObject, toIssues } from '@splitstream/money';
import { CURSOR, CURSOR_ISSUE } from './cursors.js';

// The largest PostgreSQL bigint: ids, cursors and msat amounts beyond it cannot name a row or be compared with one.
export const MAX_BIGINT = 9223372036854775807n;

// A regular expression for the decimals from `min` (0 or 1) to `max`, without leading zeros: shorter numbers are
// all below max; one as long as max is below it when, at its first digit that differs, that digit is smaller.
export function decimalUpTo(max: bigint, min: 0 | 1 = 1): RegExp {
  const digits = max.toString();
  const shorter = digits.length > 1 ? [`[1-9][0-9]{0,${digits.length - 2}}`] : [];
  const sameLength: string[] = [];
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    const lowest = i === 0 ? 1 : 0;
    const rest = digits.length - i - 1;
    if (d > lowest) sameLength.push(`${digits.slice(0, i)}[${lowest}-${d - 1}]${rest ? `[0-9]{${rest}}` : ''}`);
  }
  sameLength.push(digits);
  return new RegExp(`^(?:${[...(min === 0 ? ['0'] : []), ...shorter, ...sameLength].join('|')})$`);
}

// Database ids in route parameters and filters: 1..9223372036854775807; anything else cannot name a row.
export const DATABASE_ID = decimalUpTo(MAX_BIGINT);
// Amounts in msat in queries: 0..9223372036854775807 (what a bigint column holds).
export const MSAT_IN_RANGE = decimalUpTo(MAX_BIGINT, 0);

// The row a route's `:id` names, or 404 `<what> <id>`: an id that cannot name a row is as absent as a missing one.
export async function foundById<T>(what: string, id: string, find: (id: bigint) => Promise<T | null>): Promise<T> {
  const found = DATABASE_ID.test(id) ? await find(BigInt(id)) : null;
  if (!found) throw AppError.notFound(`${what} ${id}`);
  return found;
}

export const databaseId = (what: string) => z.string().regex(DATABASE_ID, `must be a ${what} id (a whole number from 1 to ${MAX_BIGINT})`).transform(BigInt);
export const msatAmount = z.string().regex(MSAT_IN_RANGE, `must be a whole number of msat from 0 to ${MAX_BIGINT}, as a decimal string`).transform(BigInt);
// Years 1 to 9999 once the offset is applied: PostgreSQL refuses year 0 (1 BC as JavaScript counts), and an offset
// can carry 0001-01-01 or 9999-12-31 over the edge.
const IN_YEARS = 'must fall in the years 1 to 9999 (UTC)';
const inYears = (d: Date) => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999;
export const timestamp = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2026-11-29T00:00:00Z' })
  .transform((s) => new Date(s))
  .refine(inYears, IN_YEARS);
// A whole UTC day (statements keep listening per UTC day): a date, or its midnight as a date-time (at any offset).
const UTC_DAY = 'must be a whole UTC day: a date such as 2026-11-29, or its midnight 2026-11-29T00:00:00Z';
const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });
export const utcDay = z
  .string()
  .refine((s) => isoDate.safeParse(s).success || isoDateTime.safeParse(s).success, UTC_DAY)
  .transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s))
  .refine(inYears, IN_YEARS)
  .refine((d) => d.getTime() % 86_400_000 === 0, UTC_DAY);
export const booleanFlag = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((s) => s === 'true');

// Query values with plain messages (a reader of the 400 should not have to decode the validator's).
export const wholeNumber = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
export const queryText = (max: number) => {
  const error = `must be 1 to ${max} characters`;
  return z.string({ error }).min(1, { error }).max(max, { error });
};

// Every list: newest first, `limit` per page, and `before` = the previous page's `nextBefore` (an opaque cursor:
// see Cursors).
export const pageQuery = {
  limit: wholeNumber(1, 100).default(20),
  before: z.string().regex(CURSOR, CURSOR_ISSUE).optional(),
};

// Query strings are validated like bodies: an unknown parameter is a 400 naming it, with the known one it was
// probably meant to be (a misspelt filter must not silently return everything).
export function parseQuery<T extends z.ZodRawShape>(shape: T, query: unknown): z.output<z.ZodObject<T>> {
  const parsed = strictObject(shape).safeParse(query ?? {});
  if (!parsed.success) throw AppError.validation(toIssues(parsed.error), 'the query is invalid');
  return parsed.data;
}
