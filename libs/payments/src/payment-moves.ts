import { type PaymentAmount, PaymentStatus, release, reserve, settle } from '@splitstream/ledger';
import { satsForWallet, satsToMsat } from '@splitstream/money';
import { Prisma } from '@splitstream/persistence';
import { canMove, IllegalTransitionError, needsVerdict } from './transitions.js';

type Tx = Prisma.TransactionClient;

// A payment row as the runner, the dispatcher and reconciliation read it.
export interface PaymentRow {
  id: bigint;
  payout_id: bigint;
  balance_id: bigint;
  recipient_id: bigint;
  app_id: string; // its balance's app: whose recipient state its outcome moves
  amount_sats: bigint;
  method: string; // PaymentMethod
  destination: string;
  reference: string;
  custom_records: Record<string, string>;
  preimage: string | null;
  invoice: string | null;
  invoice_expires_at: Date | null;
  payment_hash: string | null;
  sent_at: Date | null;
  created_at: Date;
}

export const PAYMENT_ROW_COLUMNS = Prisma.raw(
  'p.id, p.payout_id, p.balance_id, p.recipient_id, (SELECT b.app_id FROM balance b WHERE b.id = p.balance_id) AS app_id, p.amount_sats, p.method, p.destination, p.reference, p.custom_records, p.preimage, p.invoice, p.invoice_expires_at, p.payment_hash, p.sent_at, p.created_at',
);

// What a payment takes from one balance.
export interface DraftPart {
  balanceId: bigint;
  msat: bigint;
}

// What a payment is about to be: recorded `pending` with its money reserved (owed -> in flight).
export interface PaymentDraft {
  balanceId: bigint; // its only balance, or the lead of its parts
  // What it takes from each balance (they add up to amountSats): one invoice for several small balances of one
  // address. Absent: all of it from balanceId.
  parts?: DraftPart[];
  recipientId: bigint;
  reference: string;
  method: string;
  destination: string;
  amountSats: bigint;
  attempt: number;
  customRecords: Record<string, string>;
  preimage?: string;
  paymentHash?: string;
  comment?: string; // an invoice payment's invoice comment
  simulated?: boolean; // paid by a development simulator: no real sats move
}

export interface Reason {
  code: string | null;
  message: string; // what apps read: the coded reason in words
  detail?: string; // the whole story (a transport error, a server's answer): for the log and admins only
}

export interface PaidItem {
  id: bigint;
  feeSats: number | null; // null: not known (a payment proved by its preimage alone)
  paymentHash: string;
  preimage: string;
}

export interface ReasonItem {
  id: bigint;
  reason: Reason;
}

// Why an unknown payment ends as it does: `wallet`, the wallet's own record (or its answer to the same payment
// sent again); `preimage`, a preimage of its payment hash; `override`, an admin's decision without evidence.
export const VERDICT_BASES = ['wallet', 'preimage', 'override'] as const;

export interface Verdict {
  basis: (typeof VERDICT_BASES)[number];
  decidedBy: string;
  reason: string;
  evidence: Record<string, unknown>;
}

// A payment that moved, with the status it moved to: what metrics count once the transaction commits.
export interface Moved {
  to: PaymentStatus;
  row: PaymentRow;
  feeSats: number;
}

interface MoveItem {
  id: bigint;
  reason?: Reason;
  paid?: Omit<PaidItem, 'id'>;
}

// The set-based moves of payments inside one transaction, each with its movement of money: the only code that writes
// a payment's status. Each move names the statuses it moves from, checked against PAYMENT_TRANSITIONS, and touches
// only rows still in one of them, so a payment someone else already moved is left alone; each returns the rows
// that really moved (and only their money moves).
export class PaymentMoves {
  readonly moved: Moved[] = [];

  constructor(readonly tx: Tx) {}

  // Record payments `pending` and reserve their money: one statement for the payments, one for their parts (a run
  // records thousands at once; built as arrays, no per-row work in the client).
  async create(payoutId: bigint, drafts: PaymentDraft[]): Promise<PaymentRow[]> {
    if (drafts.length === 0) return [];
    const column = <T>(pick: (draft: PaymentDraft) => T) => drafts.map(pick);
    const rows = await this.tx.$queryRaw<PaymentRow[]>`
      INSERT INTO payment AS p (payout_id, recipient_id, balance_id, app_id, reference, method, destination, amount_sats, attempt, status,
                                custom_records, preimage, payment_hash, comment, simulated)
      SELECT ${payoutId}::bigint, d.recipient, d.balance, b.app_id, d.reference, d.method, d.destination, d.sats, d.attempt, ${PaymentStatus.Pending}::text,
             d.records, d.preimage, d.hash, d.comment, d.simulated
      FROM unnest(${column((d) => String(d.recipientId))}::bigint[], ${column((d) => String(d.balanceId))}::bigint[], ${column((d) => d.reference)}::text[],
                  ${column((d) => d.method)}::text[], ${column((d) => d.destination)}::text[], ${column((d) => String(satsForWallet(d.amountSats)))}::bigint[],
                  ${column((d) => d.attempt)}::int[], ${column((d) => JSON.stringify(d.customRecords))}::jsonb[], ${column((d) => d.preimage ?? null)}::text[],
                  ${column((d) => d.paymentHash ?? null)}::text[], ${column((d) => d.comment ?? null)}::text[], ${column((d) => d.simulated ?? false)}::boolean[])
           WITH ORDINALITY AS d(recipient, balance, reference, method, destination, sats, attempt, records, preimage, hash, comment, simulated, ord)
      JOIN balance b ON b.id = d.balance
      ORDER BY d.ord
      RETURNING ${PAYMENT_ROW_COLUMNS}`;
    // Each draft's balance exists (its money was read from it); a draft dropped by the join would be a bug, never a payment.
    if (rows.length !== drafts.length) throw new Error(`recorded ${rows.length} of ${drafts.length} payments: a draft's balance is missing`);
    const ids = new Map(rows.map((r) => [r.reference, r.id]));
    const parts = drafts.flatMap((d) => {
      const own = d.parts ?? [{ balanceId: d.balanceId, msat: satsToMsat(d.amountSats) }];
      const msat = own.reduce((sum, p) => sum + p.msat, 0n);
      if (msat !== satsToMsat(d.amountSats)) throw new RangeError(`payment ${d.reference}: its parts add up to ${msat} msat, not ${d.amountSats} sats`);
      return own.map((p) => ({ paymentId: ids.get(d.reference)!, balanceId: p.balanceId, msat: p.msat }));
    });
    await this.tx.$executeRaw`
      INSERT INTO payment_part (payment_id, balance_id, msat)
      SELECT * FROM unnest(${parts.map((p) => String(p.paymentId))}::bigint[], ${parts.map((p) => String(p.balanceId))}::bigint[], ${parts.map((p) => String(p.msat))}::bigint[])`;
    await reserve(this.tx, parts);
    return rows.sort(byId);
  }

  // pending -> sending for these payments, just before their request: from here a crash leaves them unknown.
  // A payment that pays an invoice moves only once it has its invoice: none is ever sent without one.
  async claim(ids: bigint[]): Promise<PaymentRow[]> {
    return this.move(
      PaymentStatus.Sending,
      ids.map((id) => ({ id })),
      [PaymentStatus.Pending],
      Prisma.sql`AND (p.method = 'keysend' OR p.invoice IS NOT NULL)`,
    );
  }

  // An invoice payment's checked invoice, stored with its payment hash and expiry while it is still pending.
  async attachInvoice(id: bigint, invoice: { invoice: string; paymentHash: string; expiresAt: Date }): Promise<boolean> {
    const { count } = await this.tx.payment.updateMany({
      where: { id, status: PaymentStatus.Pending, method: 'invoice', invoice: null },
      data: { invoice: invoice.invoice, paymentHash: invoice.paymentHash, invoiceExpiresAt: invoice.expiresAt },
    });
    return count === 1;
  }

  // What the wallet said when an unknown payment was looked up (shown to operators; the evidence of an override).
  async noteCheck(id: bigint, result: string): Promise<void> {
    await this.tx.payment.updateMany({ where: { id, status: PaymentStatus.Unknown }, data: { checkedAt: new Date(), checkResult: result } });
  }

  // sending -> succeeded: in flight -> paid.
  async succeed(items: PaidItem[]): Promise<PaymentRow[]> {
    const rows = await this.move(PaymentStatus.Succeeded, items.map(paidItem), [PaymentStatus.Sending]);
    await settle(this.tx, await this.parts(rows));
    return rows;
  }

  // sending -> failed: certainly not paid, the recipient's failure; in flight -> owed.
  async fail(items: ReasonItem[]): Promise<PaymentRow[]> {
    const rows = await this.move(PaymentStatus.Failed, items, [PaymentStatus.Sending]);
    await release(this.tx, await this.parts(rows));
    return rows;
  }

  // pending | sending -> cancelled: never sent (or refused before anything was paid); in flight -> owed.
  async cancel(items: ReasonItem[]): Promise<PaymentRow[]> {
    const rows = await this.move(PaymentStatus.Cancelled, items, [PaymentStatus.Pending, PaymentStatus.Sending]);
    await release(this.tx, await this.parts(rows));
    return rows;
  }

  // sending -> unknown: it may have been paid; its money stays in flight until a verdict.
  async markUnknown(items: ReasonItem[]): Promise<PaymentRow[]> {
    return this.move(PaymentStatus.Unknown, items, [PaymentStatus.Sending]);
  }

  // unknown -> succeeded | failed, on a verdict that is recorded with it.
  async settleUnknown(item: { id: bigint; paid: Omit<PaidItem, 'id'> } | { id: bigint; reason: Reason }, verdict: Verdict): Promise<PaymentRow | undefined> {
    const to = 'paid' in item ? PaymentStatus.Succeeded : PaymentStatus.Failed;
    const [row] = await this.move(to, [item], [PaymentStatus.Unknown], Prisma.empty, verdict);
    if (!row) return undefined;
    if (to === PaymentStatus.Succeeded) await settle(this.tx, await this.parts([row]));
    else await release(this.tx, await this.parts([row]));
    await this.tx.paymentVerdict.create({
      data: {
        paymentId: row.id,
        outcome: to,
        basis: verdict.basis,
        decidedBy: verdict.decidedBy,
        reason: verdict.reason,
        evidence: verdict.evidence as Prisma.InputJsonObject,
      },
    });
    return row;
  }

  private async move(to: PaymentStatus, items: MoveItem[], from: PaymentStatus[], guard: Prisma.Sql = Prisma.empty, verdict?: Verdict): Promise<PaymentRow[]> {
    for (const source of from) {
      if (!canMove(source, to)) throw new IllegalTransitionError(source, to);
      if (needsVerdict(source) && !verdict) throw new IllegalTransitionError(source, to);
    }
    if (items.length === 0) return [];
    const column = <T>(pick: (item: MoveItem) => T) => items.map(pick);
    const rows = await this.tx.$queryRaw<PaymentRow[]>`
      UPDATE payment p SET status = ${to},
             error_code = d.code, error_message = d.message,
             fee_sats = COALESCE(d.fee, p.fee_sats), payment_hash = COALESCE(d.hash, p.payment_hash), preimage = COALESCE(d.preimage, p.preimage),
             sent_at = CASE WHEN ${to} = ${PaymentStatus.Sending} THEN now() ELSE p.sent_at END,
             finished_at = CASE WHEN ${to} = ${PaymentStatus.Sending} THEN p.finished_at ELSE now() END,
             resolved_by = ${verdict?.decidedBy ?? null}::text, resolved_at = CASE WHEN ${verdict !== undefined} THEN now() ELSE p.resolved_at END
      FROM unnest(${column((i) => String(i.id))}::bigint[], ${column((i) => i.reason?.code ?? null)}::text[], ${column((i) => i.reason?.message ?? null)}::text[],
                  ${column((i) => i.paid?.feeSats ?? null)}::bigint[], ${column((i) => i.paid?.paymentHash ?? null)}::text[], ${column((i) => i.paid?.preimage ?? null)}::text[])
           AS d(id, code, message, fee, hash, preimage)
      WHERE p.id = d.id AND p.status = ANY(${from}::text[]) ${guard}
      RETURNING ${PAYMENT_ROW_COLUMNS}`;
    rows.sort(byId);
    const fees = new Map(items.map((i) => [i.id, i.paid?.feeSats ?? 0]));
    for (const row of rows) this.moved.push({ to, row, feeSats: fees.get(row.id) ?? 0 });
    return rows;
  }

  // The money these payments move: their parts, balance by balance.
  private async parts(rows: PaymentRow[]): Promise<PaymentAmount[]> {
    if (rows.length === 0) return [];
    const parts = await this.tx.paymentPart.findMany({
      where: { paymentId: { in: rows.map((r) => r.id) } },
      orderBy: [{ paymentId: 'asc' }, { balanceId: 'asc' }],
    });
    return parts.map((p) => ({ paymentId: p.paymentId, balanceId: p.balanceId, msat: p.msat }));
  }
}

const byId = (a: PaymentRow, b: PaymentRow) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const paidItem = ({ id, ...paid }: PaidItem): MoveItem => ({ id, paid });
