import type { Prisma, SqlClient } from '@splitstream/persistence';
import { IN_FLIGHT_STATUSES, PaymentStatus } from './statuses.js';

type Tx = Prisma.TransactionClient;

// The books: the only code that writes balances. Each movement of money is one function, called inside the
// caller's transaction (a Prisma one, or a `pg` client's for accrue and allocate, which run for every event), and
// set-based (one statement per table, however many rows), so a whole chunk of keysends moves in one round trip.
// Per balance, always: accrued = owed + in flight + parked + paid (a CHECK constraint holds the database to it).

// What one event batch adds to one balance, and what the latest event said about it.
export interface Accrual extends BalanceKey {
  amountMsat: bigint;
  name: string;
  appName: string;
  appVersion: string;
  senderName: string;
  position: number;
}

export interface BalanceKey {
  recipientId: bigint;
  appId: string;
  feedGuid: string;
  itemGuid: string;
  remoteFeedGuid: string;
  remoteItemGuid: string;
}

export const balanceKey = (b: BalanceKey): string =>
  JSON.stringify([String(b.recipientId), b.appId, b.feedGuid, b.itemGuid, b.remoteFeedGuid, b.remoteItemGuid]);

// A payment's part on one balance (PaymentPart).
export interface PaymentAmount {
  paymentId: bigint;
  balanceId: bigint;
  msat: bigint;
}

const ids = (values: bigint[]) => values.map(String);
const MAY_PAY = [...IN_FLIGHT_STATUSES, PaymentStatus.Succeeded];
const amounts = (values: bigint[]) => values.map(String);

// Accrue: listening money becomes owed (parked, when the recipient is parked for that app). Each row's
// (recipient, app) must exist in app_recipient (the accumulation writes it first). Rows must come sorted by
// balanceKey so that concurrent batches lock balances in one order. Returns each balance's id by balanceKey.
export async function accrue(client: SqlClient, rows: Accrual[]): Promise<Map<string, bigint>> {
  if (rows.length === 0) return new Map();
  const { rows: balances } = await client.query<Record<keyof BalanceKey | 'id', string>>(
    `INSERT INTO balance (recipient_id, app_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid, accrued_msat, owed_msat, parked_msat,
                          name, app_name, app_version, sender_name, position)
     SELECT d.r, d.a, d.f, d.i, d.rf, d.ri, d.m, CASE WHEN ar.parked THEN 0 ELSE d.m END, CASE WHEN ar.parked THEN d.m ELSE 0 END,
            d.n, d.an, d.av, d.sn, d.p
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int[])
       WITH ORDINALITY AS d(r, a, f, i, rf, ri, m, n, an, av, sn, p, ord)
     JOIN app_recipient ar ON ar.recipient_id = d.r AND ar.app_id = d.a
     ORDER BY d.ord
     ON CONFLICT (recipient_id, app_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid) WHERE boost_id IS NULL DO UPDATE SET
       accrued_msat = balance.accrued_msat + EXCLUDED.accrued_msat,
       owed_msat = balance.owed_msat + EXCLUDED.owed_msat,
       parked_msat = balance.parked_msat + EXCLUDED.parked_msat,
       name = EXCLUDED.name, app_name = EXCLUDED.app_name, app_version = EXCLUDED.app_version,
       sender_name = EXCLUDED.sender_name, position = EXCLUDED.position, updated_at = now()
     RETURNING id, recipient_id AS "recipientId", app_id AS "appId", feed_guid AS "feedGuid", item_guid AS "itemGuid",
               remote_feed_guid AS "remoteFeedGuid", remote_item_guid AS "remoteItemGuid"`,
    [
      ids(rows.map((r) => r.recipientId)),
      rows.map((r) => r.appId),
      rows.map((r) => r.feedGuid),
      rows.map((r) => r.itemGuid),
      rows.map((r) => r.remoteFeedGuid),
      rows.map((r) => r.remoteItemGuid),
      amounts(rows.map((r) => r.amountMsat)),
      rows.map((r) => r.name),
      rows.map((r) => r.appName),
      rows.map((r) => r.appVersion),
      rows.map((r) => r.senderName),
      rows.map((r) => r.position),
    ],
  );
  return new Map(balances.map(({ id, recipientId, ...b }) => [balanceKey({ ...b, recipientId: BigInt(recipientId) }), BigInt(id)]));
}

// The UTC day (YYYY-MM-DD) of a time: what listening_day is kept by.
export const utcDayOf = (time: Date): string => time.toISOString().slice(0, 10);

// One event's share on one balance (of recipientId), and the UTC day the event was received.
export interface Share {
  eventId: bigint;
  balanceId: bigint;
  recipientId: bigint;
  amountMsat: bigint;
  day: string;
}

// Allocate: the shares of accrued events, one allocation row each, and their sums per recipient, UTC day and balance
// added to listening_day, in one statement (a period's statement reads the days). The days are summed here: a
// pass's shares fall on far fewer days and balances than there are shares, and each array element sent costs.
export async function allocate(client: SqlClient, shares: Share[]): Promise<void> {
  if (shares.length === 0) return;
  const days = new Map<string, { recipientId: bigint; day: string; balanceId: bigint; msat: bigint }>();
  for (const s of shares) {
    const key = `${s.balanceId}|${s.day}`;
    const sum = days.get(key);
    if (sum) sum.msat += s.amountMsat;
    else days.set(key, { recipientId: s.recipientId, day: s.day, balanceId: s.balanceId, msat: s.amountMsat });
  }
  const d = [...days.values()];
  await client.query(
    `WITH allocated AS (
       INSERT INTO allocation (event_id, balance_id, amount_msat) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
     )
     INSERT INTO listening_day AS l (recipient_id, day, balance_id, listened_msat)
     SELECT * FROM unnest($4::bigint[], $5::date[], $6::bigint[], $7::bigint[]) AS d(r, d, b, m)
     ORDER BY r, d, b
     ON CONFLICT (recipient_id, day, balance_id) DO UPDATE SET listened_msat = l.listened_msat + EXCLUDED.listened_msat`,
    [
      ids(shares.map((s) => s.eventId)),
      ids(shares.map((s) => s.balanceId)),
      amounts(shares.map((s) => s.amountMsat)),
      ids(d.map((x) => x.recipientId)),
      d.map((x) => x.day),
      ids(d.map((x) => x.balanceId)),
      amounts(d.map((x) => x.msat)),
    ],
  );
}

// Reserve: owed -> in flight for payments about to be sent, by their parts (PaymentPart); the listening they pay
// for is linked to them. A balance paid by several payments in one run (MAX_PAYMENT_SATS, maxSendable) links all
// its listening to the first of them (the lowest id): one deterministic link whatever the order of the parts.
export async function reserve(tx: Tx, items: PaymentAmount[]): Promise<void> {
  if (items.length === 0) return;
  await tx.$executeRaw`
    UPDATE balance b SET owed_msat = b.owed_msat - d.m, in_flight_msat = b.in_flight_msat + d.m, updated_at = now()
    FROM (SELECT b AS id, SUM(m)::bigint AS m FROM unnest(${ids(items.map((i) => i.balanceId))}::bigint[], ${amounts(items.map((i) => i.msat))}::bigint[]) AS u(b, m) GROUP BY b) d
    WHERE b.id = d.id`;
  await tx.$executeRaw`
    UPDATE allocation a SET payment_id = d.k
    FROM (SELECT b, MIN(k) AS k FROM unnest(${ids(items.map((i) => i.balanceId))}::bigint[], ${ids(items.map((i) => i.paymentId))}::bigint[]) AS u(b, k) GROUP BY b) d
    WHERE a.balance_id = d.b AND a.payment_id IS NULL`;
}

// Settle: in flight -> paid.
export async function settle(tx: Tx, items: Omit<PaymentAmount, 'paymentId'>[]): Promise<void> {
  if (items.length === 0) return;
  await tx.$executeRaw`
    UPDATE balance b SET in_flight_msat = b.in_flight_msat - d.m, paid_msat = b.paid_msat + d.m, updated_at = now()
    FROM (SELECT b AS id, SUM(m)::bigint AS m FROM unnest(${ids(items.map((i) => i.balanceId))}::bigint[], ${amounts(items.map((i) => i.msat))}::bigint[]) AS u(b, m) GROUP BY b) d
    WHERE b.id = d.id`;
}

// Release: in flight -> owed (parked, when the recipient is parked for the balance's app), for payments certainly
// not paid (already moved to failed or cancelled). The listening they covered goes to the first other payment of
// the same run for the same balance that may still pay (pending, sending, unknown or succeeded), or, with none, is
// free for the next payment: a failed part never strands listening that another part of the run paid.
export async function release(tx: Tx, items: PaymentAmount[]): Promise<void> {
  if (items.length === 0) return;
  await tx.$executeRaw`
    UPDATE balance b SET in_flight_msat = b.in_flight_msat - d.m,
           owed_msat = b.owed_msat + CASE WHEN ar.parked THEN 0 ELSE d.m END,
           parked_msat = b.parked_msat + CASE WHEN ar.parked THEN d.m ELSE 0 END, updated_at = now()
    FROM (SELECT b AS id, SUM(m)::bigint AS m FROM unnest(${ids(items.map((i) => i.balanceId))}::bigint[], ${amounts(items.map((i) => i.msat))}::bigint[]) AS u(b, m) GROUP BY b) d,
         app_recipient ar
    WHERE b.id = d.id AND ar.recipient_id = b.recipient_id AND ar.app_id = b.app_id`;
  await tx.$executeRaw`
    UPDATE allocation a SET payment_id = r.next
    FROM (SELECT u.k AS old, u.b AS balance_id,
                 (SELECT MIN(other.id) FROM payment_part op JOIN payment other ON other.id = op.payment_id
                  WHERE op.balance_id = u.b AND other.payout_id = mine.payout_id AND other.id <> mine.id
                    AND other.status = ANY(${MAY_PAY}::text[])) AS next
          FROM unnest(${ids(items.map((i) => i.paymentId))}::bigint[], ${ids(items.map((i) => i.balanceId))}::bigint[]) AS u(k, b)
          JOIN payment mine ON mine.id = u.k) r
    WHERE a.payment_id = r.old AND a.balance_id = r.balance_id`;
}

// Move a sub-sat remainder between two balances of one recipient, so remainders spread over episodes are paid
// once they add up to a sat (owed and accrued move together).
export async function transferRemainder(tx: Tx, fromBalanceId: bigint, toBalanceId: bigint, msat: bigint): Promise<void> {
  await tx.$executeRaw`
    UPDATE balance SET owed_msat = owed_msat + CASE WHEN id = ${toBalanceId} THEN ${msat}::bigint ELSE -${msat}::bigint END,
           accrued_msat = accrued_msat + CASE WHEN id = ${toBalanceId} THEN ${msat}::bigint ELSE -${msat}::bigint END, updated_at = now()
    WHERE id IN (${fromBalanceId}, ${toBalanceId})`;
}

// A recipient as one app knows it: park and unpark move only that app's balances, never another app's money.
export interface AppRecipientKey {
  recipientId: bigint;
  appId: string;
}

// Park: a recipient that keeps failing for an app stops being paid that app's money; what that app owes it becomes
// parked (and so does what that app accrues for it until unparked). The reason stays on the (recipient, app).
export async function park(tx: Tx, key: AppRecipientKey, reason: { code: string | null; message: string; detail?: string }): Promise<void> {
  await tx.appRecipient.update({
    where: { recipientId_appId: { recipientId: key.recipientId, appId: key.appId } },
    data: {
      parked: true,
      parkedAt: new Date(),
      nextAttemptAt: null,
      lastErrorCode: reason.code,
      lastErrorMessage: reason.message,
      lastErrorDetail: reason.detail ?? null,
    },
  });
  await tx.$executeRaw`
    UPDATE balance SET parked_msat = parked_msat + owed_msat, owed_msat = 0, updated_at = now()
    WHERE recipient_id = ${key.recipientId} AND app_id = ${key.appId}`;
}

// Unpark: an operator has looked; that app's parked money is owed again and paid from the next run, its failures
// forgotten. False when that app had not parked the recipient (nothing changes), null when the recipient has no
// state for that app. The row lock makes a second unpark at the same time see it already done.
export async function unpark(tx: Tx, key: AppRecipientKey): Promise<boolean | null> {
  const { count } = await tx.appRecipient.updateMany({
    where: { recipientId: key.recipientId, appId: key.appId, parked: true },
    data: { parked: false, parkedAt: null, consecutiveFailures: 0, nextAttemptAt: null },
  });
  if (count === 0) return (await tx.appRecipient.count({ where: { recipientId: key.recipientId, appId: key.appId } })) === 1 ? false : null;
  await tx.$executeRaw`
    UPDATE balance SET owed_msat = owed_msat + parked_msat, parked_msat = 0, updated_at = now()
    WHERE recipient_id = ${key.recipientId} AND app_id = ${key.appId} AND parked_msat > 0`;
  return true;
}
