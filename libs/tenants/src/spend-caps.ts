import { AppError, ErrorCode } from '@splitstream/errors';
import type { Prisma } from '@splitstream/persistence';

type Tx = Prisma.TransactionClient;

export interface AppCaps {
  dayCapMsat: bigint | null;
  monthCapMsat: bigint | null;
  listenerDayCapMsat: bigint | null;
}

// An accepted (newly stored) event, as the caps see it.
export interface Spend {
  amountMsat: bigint;
  listenerId: string | null;
}

// Periods are UTC days and months; a period key sorts and prunes as text.
export const dayPeriod = (now: Date) => `day:${now.toISOString().slice(0, 10)}`;
export const monthPeriod = (now: Date) => `month:${now.toISOString().slice(0, 7)}`;
export const listenerDayPeriod = (now: Date, listenerId: string) => `listener-day:${now.toISOString().slice(0, 10)}:${listenerId}`;

const nextUtcDay = (now: Date) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
const nextUtcMonth = (now: Date) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
const secondsUntil = (now: Date, at: number) => Math.max(1, Math.ceil((at - now.getTime()) / 1000));

interface Charge {
  period: string;
  msat: bigint;
  cap: bigint;
  code: ErrorCode;
  what: string;
  resetsAt: number;
}

export const hasCaps = (caps: AppCaps | null): caps is AppCaps =>
  caps !== null && (caps.dayCapMsat !== null || caps.monthCapMsat !== null || caps.listenerDayCapMsat !== null);

export function chargesFor(caps: AppCaps, spends: Spend[], now: Date): Charge[] {
  const total = spends.reduce((sum, s) => sum + s.amountMsat, 0n);
  const charges: Charge[] = [];
  if (caps.dayCapMsat !== null) {
    charges.push({
      period: dayPeriod(now),
      msat: total,
      cap: caps.dayCapMsat,
      code: ErrorCode.AppDayCapExceeded,
      what: "the app's daily cap",
      resetsAt: nextUtcDay(now),
    });
  }
  if (caps.monthCapMsat !== null) {
    charges.push({
      period: monthPeriod(now),
      msat: total,
      cap: caps.monthCapMsat,
      code: ErrorCode.AppMonthCapExceeded,
      what: "the app's monthly cap",
      resetsAt: nextUtcMonth(now),
    });
  }
  if (caps.listenerDayCapMsat !== null) {
    const perListener = new Map<string, bigint>();
    for (const s of spends) if (s.listenerId !== null) perListener.set(s.listenerId, (perListener.get(s.listenerId) ?? 0n) + s.amountMsat);
    for (const [listener, msat] of perListener) {
      charges.push({
        period: listenerDayPeriod(now, listener),
        msat,
        cap: caps.listenerDayCapMsat,
        code: ErrorCode.ListenerDayCapExceeded,
        what: `listener ${JSON.stringify(listener)}'s daily cap`,
        resetsAt: nextUtcDay(now),
      });
    }
  }
  // One lock order for every request, so concurrent requests of one app cannot deadlock.
  return charges.filter((c) => c.msat > 0n).sort((a, b) => (a.period < b.period ? -1 : 1));
}

// Adds what a request accepted to the app's spend counters, inside the request's transaction: when a counter goes
// over its cap the error rolls the whole request back (nothing stored, nothing spent). The counter row's lock
// makes concurrent requests queue, so two requests cannot both slip under a cap.
export async function chargeSpend(tx: Tx, appId: string, caps: AppCaps, spends: Spend[], now = new Date()): Promise<void> {
  const charges = chargesFor(caps, spends, now);
  if (charges.length === 0) return;
  const totals = await tx.$queryRaw<{ period: string; msat: bigint }[]>`
    INSERT INTO app_spend (app_id, period, msat)
    SELECT ${appId}, p, m FROM unnest(${charges.map((c) => c.period)}::text[], ${charges.map((c) => String(c.msat))}::bigint[]) AS u(p, m)
    ON CONFLICT (app_id, period) DO UPDATE SET msat = app_spend.msat + EXCLUDED.msat
    RETURNING period, msat`;
  const spent = new Map(totals.map((t) => [t.period, t.msat]));
  for (const charge of charges) {
    const total = spent.get(charge.period)!;
    if (total <= charge.cap) continue;
    const before = total - charge.msat;
    throw new AppError(
      charge.code,
      `refused: ${charge.msat} msat would take ${charge.what} of ${charge.cap} msat to ${total} msat (${before} msat used); nothing was accepted`,
      undefined,
      secondsUntil(now, charge.resetsAt),
    );
  }
}
