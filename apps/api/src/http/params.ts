import { z } from 'zod';
import { AppError } from '@splitstream/errors';
import { MSAT_DECIMAL, toIssues } from '@splitstream/money';

// Database ids in route parameters: bigint-sized decimal numbers; anything else cannot name a row.
export const DATABASE_ID = /^[1-9][0-9]{0,18}$/;

// The row a route's `:id` names, or 404 `<what> <id>`: an id that cannot name a row is as absent as a missing one.
export async function foundById<T>(what: string, id: string, find: (id: bigint) => Promise<T | null>): Promise<T> {
  const found = DATABASE_ID.test(id) ? await find(BigInt(id)) : null;
  if (!found) throw AppError.notFound(`${what} ${id}`);
  return found;
}

export const databaseId = (what: string) => z.string().regex(DATABASE_ID, `must be a ${what} id`).transform(BigInt);
export const msatAmount = z
  .string()
  .regex(MSAT_DECIMAL, 'must be a whole number of msat, as a decimal string')
  .transform(BigInt);
export const timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2026-11-29T00:00:00Z' }).transform((s) => new Date(s));
export const booleanFlag = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((s) => s === 'true');

// Every list: newest first, `limit` per page, and `before` = the previous page's `nextBefore`.
export const pageQuery = (what: string) => ({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: databaseId(what).optional(),
});

// Query strings are validated like bodies: an unknown parameter is a 400 (a misspelt filter must not silently
// return everything).
export function parseQuery<T extends z.ZodRawShape>(shape: T, query: unknown): z.output<z.ZodObject<T>> {
  const parsed = z.strictObject(shape).safeParse(query ?? {});
  if (!parsed.success) throw AppError.validation(toIssues(parsed.error), 'the query is invalid');
  return parsed.data;
}
