import { Injectable } from '@nestjs/common';
import { ofTenant, type RecipientIdentity, recipientState, recipientView, unpark } from '@splitstream/ledger';
import { Prisma, PrismaService } from '@splitstream/persistence';
import { WAITING_COLUMNS, WAITING_JOIN, waitingOf, type WaitingRow } from './waiting.js';

// Which recipients a list shows. `tenant` null: every app's money (admin keys); otherwise only what that app's
// listeners accrued, and only recipients that app has accrued for.
export interface RecipientFilter {
  tenant: string | null;
  id?: bigint;
  identity?: RecipientIdentity;
  parked?: boolean;
  owedAtLeastMsat?: bigint;
  q?: string; // a prefix of the name (any case) or of the address
  before?: bigint;
  limit: number;
  order?: 'newest' | 'accrued'; // accrued: the most earning first (no cursor)
}

interface RecipientRow extends WaitingRow {
  id: bigint;
  address: string;
  custom_key: string;
  custom_value: string;
  name: string;
  parked: boolean;
  parked_at: Date | null;
  next_attempt_at: Date | null;
  consecutive_failures: number;
  last_error_code: string | null;
  last_error_message: string | null;
  last_error_detail: string | null;
  accrued: bigint;
  owed: bigint;
  in_flight: bigint;
  parked_msat: bigint;
  paid: bigint;
}

const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// `admin`: the caller sees every app's data, and the last failure in full (`lastErrorDetail`); apps see its code
// and its reason in words only.
const recipientListView = (r: RecipientRow, admin: boolean) => ({
  id: String(r.id),
  ...recipientView({ address: r.address, customKey: r.custom_key, customValue: r.custom_value, name: r.name }),
  state: recipientState({ parked: r.parked, nextAttemptAt: r.next_attempt_at }),
  accruedMsat: String(r.accrued),
  owedMsat: String(r.owed),
  inFlightMsat: String(r.in_flight),
  parkedMsat: String(r.parked_msat),
  paidMsat: String(r.paid),
  consecutiveFailures: r.consecutive_failures,
  lastErrorCode: r.last_error_code,
  lastErrorMessage: r.last_error_message,
  ...(admin && { lastErrorDetail: r.last_error_detail }),
  parked: r.parked,
  parkedAt: r.parked_at,
  nextAttemptAt: r.next_attempt_at,
  // Why its owed money is not being paid (address recipients): see waiting.ts.
  waiting: waitingOf(r, admin),
});
export type RecipientListItem = ReturnType<typeof recipientListView>;

@Injectable()
export class RecipientsService {
  constructor(private readonly prisma: PrismaService) {}

  // Newest first; `nextBefore` is the cursor of the next page (null on the last).
  async list(filter: RecipientFilter) {
    const conditions = [Prisma.sql`t.accrued IS NOT NULL`];
    if (filter.id !== undefined) conditions.push(Prisma.sql`r.id = ${filter.id}`);
    if (filter.identity) {
      const { address, customKey = '', customValue = '' } = filter.identity;
      conditions.push(Prisma.sql`r.address = ${address.toLowerCase()} AND r.custom_key = ${customKey} AND r.custom_value = ${customValue}`);
    }
    if (filter.parked !== undefined) conditions.push(Prisma.sql`r.parked = ${filter.parked}`);
    if (filter.owedAtLeastMsat !== undefined) conditions.push(Prisma.sql`t.owed >= ${filter.owedAtLeastMsat}`);
    if (filter.q !== undefined) {
      const prefix = likePrefix(filter.q);
      conditions.push(Prisma.sql`(lower(r.name) LIKE lower(${prefix}) OR r.address LIKE lower(${prefix}))`);
    }
    if (filter.before !== undefined) conditions.push(Prisma.sql`r.id < ${filter.before}`);
    const tenant = ofTenant(filter.tenant);
    const rows = await this.prisma.$queryRaw<RecipientRow[]>`
      SELECT r.id, r.address, r.custom_key, r.custom_value, r.name, r.parked, r.parked_at, r.next_attempt_at, r.consecutive_failures,
             r.last_error_code, r.last_error_message, r.last_error_detail, t.accrued, t.owed, t.in_flight, t.parked_msat, t.paid,
             ${WAITING_COLUMNS}
      FROM recipient r
      CROSS JOIN LATERAL (
        SELECT SUM(b.accrued_msat)::bigint AS accrued, SUM(b.owed_msat)::bigint AS owed, SUM(b.in_flight_msat)::bigint AS in_flight,
               SUM(b.parked_msat)::bigint AS parked_msat, SUM(b.paid_msat)::bigint AS paid
        FROM balance b WHERE b.recipient_id = r.id ${tenant}) t
      ${WAITING_JOIN}
      WHERE ${Prisma.join(conditions, ' AND ')}
      ORDER BY ${filter.order === 'accrued' ? Prisma.sql`t.accrued DESC, r.id DESC` : Prisma.sql`r.id DESC`} LIMIT ${filter.limit}`;
    const more = rows.length === filter.limit && filter.order !== 'accrued';
    return { recipients: rows.map((r) => recipientListView(r, filter.tenant === null)), nextBefore: more ? String(rows.at(-1)!.id) : null };
  }

  // The recipients that earned most (accrued), for the dashboard.
  async top(tenant: string | null, limit: number) {
    return { recipients: (await this.list({ tenant, limit, order: 'accrued' })).recipients };
  }

  async get(tenant: string | null, id: bigint): Promise<RecipientListItem | null> {
    return (await this.list({ tenant, id, limit: 1 })).recipients[0] ?? null;
  }

  async find(tenant: string | null, identity: RecipientIdentity): Promise<RecipientListItem | null> {
    return (await this.list({ tenant, identity, limit: 1 })).recipients[0] ?? null;
  }

  // An operator has looked at a parked recipient: its parked money is owed again, paid from the next run.
  async unpark(tenant: string | null, identity: RecipientIdentity) {
    const recipient = await this.find(tenant, identity);
    if (!recipient) return null;
    await this.prisma.$transaction((tx) => unpark(tx, BigInt(recipient.id)));
    return this.get(tenant, BigInt(recipient.id));
  }
}
