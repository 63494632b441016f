import { stringify } from 'csv-stringify/sync';
import type { Statement } from '@splitstream/payouts';

// The statement as one CSV for a creator's books: a row per payment (per episode part, for an invoice that paid
// several episodes), a row per boost share (its message and sender; its payments are among the payment rows), then
// the totals per episode, per feed and overall. Amounts in msat, like the JSON; every row
// has every column (empty where it does not apply).
const COLUMNS = [
  'row',
  'feed_guid',
  'feed_title',
  'item_guid',
  'item_title',
  'payment_id',
  'created_at',
  'finished_at',
  'status',
  'method',
  'payment_hash',
  'amount_msat',
  'fee_msat',
  'accrued_msat',
  'paid_msat',
  'fees_msat',
  'owed_msat',
  'in_flight_msat',
  'parked_msat',
  'boost_id',
  'sender_name',
  'message',
  'joined_msat',
] as const;
type Row = Partial<Record<(typeof COLUMNS)[number], string | null>>;

const totals = (t: Statement['totals']): Row => ({
  accrued_msat: t.accruedMsat,
  paid_msat: t.paidMsat,
  fees_msat: t.feesMsat,
  owed_msat: t.owedMsat,
  in_flight_msat: t.inFlightMsat,
  parked_msat: t.parkedMsat,
});

// Spreadsheets run a cell that starts with =, +, -, @ (or a tab or CR before one) as a formula: a feed or episode
// title such as `=HYPERLINK(...)` or `+cmd|' /C calc'!A0` would run on the creator's machine. Every cell of every
// column that starts with one of them gets a leading single quote (OWASP's advice), which spreadsheets show as text.
// Amounts are never negative (msat owed, paid, accrued), so no number is touched; ids, hashes, statuses and dates
// never start with these characters either.
const FORMULA_START = /^[=+\-@\t\r]/;
export const neutralise = (cell: string | null | undefined): string | null | undefined =>
  typeof cell === 'string' && FORMULA_START.test(cell) ? `'${cell}` : cell;
const neutraliseRow = (row: Row): Row => Object.fromEntries(Object.entries(row).map(([column, cell]) => [column, neutralise(cell)]));

export function statementCsv(statement: Statement): string {
  const rows: Row[] = [
    ...statement.keysends.map((k) => ({
      row: 'keysend',
      feed_guid: k.feedGuid,
      item_guid: k.itemGuid,
      payment_id: k.id,
      created_at: k.createdAt.toISOString(),
      finished_at: k.finishedAt?.toISOString(),
      status: k.status,
      method: k.method,
      payment_hash: k.paymentHash,
      amount_msat: k.amountMsat,
      fee_msat: k.feeMsat,
    })),
    ...statement.boosts.map((b) => ({
      row: 'boost',
      feed_guid: b.feedGuid,
      item_guid: b.itemGuid,
      created_at: b.receivedAt.toISOString(),
      amount_msat: b.amountMsat,
      boost_id: b.id,
      sender_name: b.senderName,
      message: b.message,
      joined_msat: b.joinedBalanceMsat,
    })),
    ...statement.episodes.map((e) => ({
      row: 'episode',
      feed_guid: e.feedGuid,
      feed_title: e.feedTitle,
      item_guid: e.itemGuid,
      item_title: e.itemTitle,
      ...totals(e),
    })),
    ...statement.feeds.map((f) => ({ row: 'feed', feed_guid: f.feedGuid, feed_title: f.feedTitle, ...totals(f) })),
    { row: 'total', ...totals(statement.totals) },
  ];
  return stringify(rows.map(neutraliseRow), { header: true, columns: [...COLUMNS] });
}
