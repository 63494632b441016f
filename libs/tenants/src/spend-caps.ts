import { AppError, ErrorCode } from '@splitstream/errors';

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

const nextUtcDay = (now: Date) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
const nextUtcMonth = (now: Date) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
const secondsUntil = (now: Date, at: number) => Math.max(1, Math.ceil((at - now.getTime()) / 1000));

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
// <charged> <cap>) when a request would take a counter over its cap: the statement, and with it the whole
// request, is rolled back.
export interface CapBreach {
  period: string;
  total: bigint; // the counter with this request
  charged: bigint; // what this request adds
  cap: bigint;
}

export function capBreachError({ period, total, charged, cap }: CapBreach, now: Date): AppError {
  const [code, what, resetsAt] = period.startsWith('month:')
    ? [ErrorCode.AppMonthCapExceeded, "the app's monthly cap", nextUtcMonth(now)]
    : period.startsWith('day:')
      ? [ErrorCode.AppDayCapExceeded, "the app's daily cap", nextUtcDay(now)]
      : [ErrorCode.ListenerDayCapExceeded, `listener ${JSON.stringify(period.slice(listenerDayPrefix(now).length))}'s daily cap`, nextUtcDay(now)];
  return new AppError(
    code,
    `refused: ${charged} msat would take ${what} of ${cap} msat to ${total} msat (${total - charged} msat used); nothing was accepted`,
    undefined,
    secondsUntil(now, resetsAt),
  );
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
