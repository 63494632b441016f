import type { Prisma } from '@splitstream/persistence';
import { ErrorCode } from '@splitstream/errors';

// An app's caps in force: its own where it set them, the service's defaults (DEFAULT_APP_DAY_CAP_SATS,
// DEFAULT_APP_MONTH_CAP_SATS) otherwise. The listener cap has no default: without one, listenerId is optional.
export interface AppCaps {
  dayCapMsat: bigint;
  monthCapMsat: bigint;
  listenerDayCapMsat: bigint | null;
}

// Periods are UTC days and months; a period key sorts and prunes as text.
export const dayPeriod = (now: Date) => `day:${now.toISOString().slice(0, 10)}`;
export const monthPeriod = (now: Date) => `month:${now.toISOString().slice(0, 7)}`;
export const listenerDayPrefix = (now: Date) => `listener-day:${now.toISOString().slice(0, 10)}:`;

// The counters one request charges, as the insert's statement reads them: the day and month periods with their
// caps, and the prefix of the per-listener periods (the prefix and the listenerId make the key).
export interface CapPeriods {
  day: string;
  dayCapMsat: bigint;
  month: string;
  monthCapMsat: bigint;
  listenerPrefix: string;
  listenerDayCapMsat: bigint | null;
}

export const capPeriods = (caps: AppCaps, now: Date): CapPeriods => ({
  day: dayPeriod(now),
  dayCapMsat: caps.dayCapMsat,
  month: monthPeriod(now),
  monthCapMsat: caps.monthCapMsat,
  listenerPrefix: listenerDayPrefix(now),
  listenerDayCapMsat: caps.listenerDayCapMsat,
});

// What the database function splitstream_check_spend raises (SQLSTATE and message SSCAP <period> <total>
// <charged> <cap>) when a statement would take a counter over its cap: the statement, events and counters alike,
// is rolled back.
export interface CapBreach {
  period: string;
  total: bigint; // the counter with this statement's events
  charged: bigint; // what the statement adds
  cap: bigint;
}

// The per-event rejection a breach becomes: the cap's code and the amounts. No retry hint: the same event is
// refused the same way until the period ends, and 429 means rate limiting only.
type CapCode = ErrorCode.AppDayCapExceeded | ErrorCode.AppMonthCapExceeded | ErrorCode.ListenerDayCapExceeded;

export function capBreachRejection({ period, total, charged, cap }: CapBreach, now: Date): { code: CapCode; message: string } {
  const [code, what]: [CapCode, string] = period.startsWith('month:')
    ? [ErrorCode.AppMonthCapExceeded, "the app's monthly cap"]
    : period.startsWith('day:')
      ? [ErrorCode.AppDayCapExceeded, "the app's daily cap"]
      : [ErrorCode.ListenerDayCapExceeded, `listener ${JSON.stringify(period.slice(listenerDayPrefix(now).length))}'s daily cap`];
  return { code, message: `${charged} msat would take ${what} of ${cap} msat to ${total} msat (${total - charged} msat used)` };
}

const BREACH = /SSCAP (\S+) (\d+) (\d+) (\d+)/;

// The breach in a failed statement's error, however the driver and Prisma wrap it; undefined for other errors.
export function capBreachOf(error: unknown, depth = 0): CapBreach | undefined {
  if (!error || typeof error !== 'object' || depth > 6) return undefined;
  const e = error as Record<string, unknown>;
  for (const text of [e.message, e.originalMessage]) {
    const match = typeof text === 'string' ? BREACH.exec(text) : null;
    if (match) return { period: match[1]!, total: BigInt(match[2]!), charged: BigInt(match[3]!), cap: BigInt(match[4]!) };
  }
  for (const inner of [e.cause, e.meta, e.driverAdapterError]) {
    const found = capBreachOf(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

// Charges one accepted amount (a boost) to the app's counters inside the caller's transaction, in period order
// (the order event intake locks them in, so the two never deadlock); a counter over its cap raises
// (splitstream_check_spend), rolling back the caller's transaction: capBreachOf reads the breach.
export async function chargeSpend(tx: Prisma.TransactionClient, appId: string, caps: CapPeriods, msat: bigint, listenerId: string | null): Promise<void> {
  const listenerCap = caps.listenerDayCapMsat === null ? null : String(caps.listenerDayCapMsat);
  await tx.$queryRaw`
    WITH charges AS (
      SELECT c.period, c.cap FROM (VALUES (${caps.day}, ${String(caps.dayCapMsat)}::bigint), (${caps.month}, ${String(caps.monthCapMsat)}::bigint),
                                          (${caps.listenerPrefix} || ${listenerId}::text, ${listenerCap}::bigint)) AS c(period, cap)
      WHERE c.period IS NOT NULL AND c.cap IS NOT NULL
    ), spent AS (
      INSERT INTO app_spend (app_id, period, msat) SELECT ${appId}, period, ${String(msat)}::bigint FROM charges ORDER BY period
      ON CONFLICT (app_id, period) DO UPDATE SET msat = app_spend.msat + EXCLUDED.msat
      RETURNING period, msat
    )
    SELECT bool_and(splitstream_check_spend(s.period, s.msat, ${String(msat)}::bigint, c.cap)) AS ok FROM spent s JOIN charges c USING (period)`;
}
