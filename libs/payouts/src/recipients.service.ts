import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { AppError, ErrorCode } from '@splitstream/errors';
import { ofTenant, type RecipientIdentity, recipientState, recipientView, unpark } from '@splitstream/ledger';
import { Prisma, PrismaService, pageOf } from '@splitstream/persistence';
import { resolutionFingerprint } from './addresses/fingerprint.js';
import { WAITING_COLUMNS, waitingJoin, waitingOf, type WaitingRow } from './waiting.js';

// Which recipients a list shows. `tenant` null: every app's money and state (admin keys); otherwise only what that
// app's listeners accrued, that app's name for it and that app's state, and only recipients that app has accrued for.
export interface RecipientFilter {
  tenant: string | null;
  id?: bigint;
  identity?: RecipientIdentity;
  parked?: boolean; // for an admin: parked for any app (true), for none (false)
  owedAtLeastMsat?: bigint;
  q?: string; // a prefix of a name (any case; for an admin, any app's name) or of the address
  before?: bigint;
  limit: number;
  order?: 'newest' | 'accrued'; // accrued: the most earning first (no cursor)
}

// Which apps' parked money an unpark moves: these apps' (an app key: its own only), or every app's (admins only).
export type UnparkScope = { apps: string[] } | { allApps: true };

interface StateRow {
  parked: boolean;
  parked_at: Date | null;
  next_attempt_at: Date | null;
  consecutive_failures: number;
  last_error_code: string | null;
  last_error_message: string | null;
  last_error_detail: string | null;
}

interface MoneyRow {
  accrued: bigint;
  owed: bigint;
  in_flight: bigint;
  parked_msat: bigint;
  paid: bigint;
}

interface RecipientRow extends StateRow, MoneyRow, WaitingRow {
  id: bigint;
  address: string;
  custom_key: string;
  custom_value: string;
  name: string;
}

interface AppStateRow extends StateRow, MoneyRow {
  recipient_id: bigint;
  app_id: string;
  name: string;
}

const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// The worst-off first: parked, then backing off, then the most failures.
const WORST_FIRST = Prisma.sql`a.parked DESC, (a.next_attempt_at > now()) IS TRUE DESC, a.consecutive_failures DESC, a.app_id`;

const money = (r: MoneyRow) => ({
  accruedMsat: String(r.accrued),
  owedMsat: String(r.owed),
  inFlightMsat: String(r.in_flight),
  parkedMsat: String(r.parked_msat),
  paidMsat: String(r.paid),
});

// `admin`: the last failure in full (`lastErrorDetail`); apps see its code and its reason in words only.
const stateView = (r: StateRow, admin: boolean) => ({
  state: recipientState({ parked: r.parked, nextAttemptAt: r.next_attempt_at }),
  consecutiveFailures: r.consecutive_failures,
  lastErrorCode: r.last_error_code,
  lastErrorMessage: r.last_error_message,
  ...(admin && { lastErrorDetail: r.last_error_detail }),
  parked: r.parked,
  parkedAt: r.parked_at,
  nextAttemptAt: r.next_attempt_at,
});

// An app key sees its own name and state for the recipient. An admin key sees the latest name any app gave, the
// state of its worst-off app (parked, then backing off, then most failures) and, in `apps`, every app's name,
// state, money and why its own owed waits, worst-off first.
const recipientListView = (r: RecipientRow, apps: AppStateRow[] | undefined) => {
  const { state, ...failure } = stateView(r, apps !== undefined);
  return {
    id: String(r.id),
    ...recipientView({ address: r.address, customKey: r.custom_key, customValue: r.custom_value, name: r.name }),
    state,
    ...money(r),
    ...failure,
    ...(apps && {
      apps: apps.map((a) => ({ app: a.app_id, name: a.name || null, ...stateView(a, true), ...money(a), waiting: waitingOf({ ...r, owed: a.owed }, true) })),
    }),
    // Why its owed money is not being paid (address recipients): see waiting.ts.
    waiting: waitingOf(
      r,
      apps !== undefined,
      apps?.map((a) => a.owed),
    ),
  };
};
export type RecipientListItem = ReturnType<typeof recipientListView>;

@Injectable()
export class RecipientsService {
  // Why an address waits, as this process's resolution config sees its routes (see AddressStore).
  private readonly fingerprint: string;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.fingerprint = resolutionFingerprint(config);
  }

  // Newest first; `nextBefore` is the cursor of the next page (null on the last).
  async list(filter: RecipientFilter) {
    const ofApp = filter.tenant === null ? Prisma.empty : Prisma.sql`AND a.app_id = ${filter.tenant}`;
    // A recipient without a balance (of the tenant's) has no totals row, so it is never listed.
    const conditions: Prisma.Sql[] = [];
    if (filter.id !== undefined) conditions.push(Prisma.sql`r.id = ${filter.id}`);
    if (filter.identity) {
      const { address, customKey = '', customValue = '' } = filter.identity;
      conditions.push(Prisma.sql`r.address = ${address.toLowerCase()} AND r.custom_key = ${customKey} AND r.custom_value = ${customValue}`);
    }
    if (filter.parked !== undefined) conditions.push(Prisma.sql`ar.parked = ${filter.parked}`);
    if (filter.owedAtLeastMsat !== undefined) conditions.push(Prisma.sql`t.owed >= ${filter.owedAtLeastMsat}`);
    if (filter.q !== undefined) {
      const prefix = likePrefix(filter.q);
      conditions.push(
        Prisma.sql`(EXISTS (SELECT 1 FROM app_recipient a WHERE a.recipient_id = r.id ${ofApp} AND lower(a.name) LIKE lower(${prefix})) OR r.address LIKE lower(${prefix}))`,
      );
    }
    if (filter.before !== undefined) conditions.push(Prisma.sql`r.id < ${filter.before}`);
    // Ordered by accrued, every recipient's totals come from one pass over the balances, so only the first page's
    // recipients get their app's state and name (a lateral per recipient summed each one's balances in turn).
    const totals = (ofRecipient: Prisma.Sql) => Prisma.sql`
      SELECT b.recipient_id, SUM(b.accrued_msat)::bigint AS accrued, SUM(b.owed_msat)::bigint AS owed, SUM(b.in_flight_msat)::bigint AS in_flight,
             SUM(b.parked_msat)::bigint AS parked_msat, SUM(b.paid_msat)::bigint AS paid
      FROM balance b WHERE true ${ofRecipient} ${ofTenant(filter.tenant)} GROUP BY b.recipient_id`;
    const found = await this.prisma.$queryRaw<RecipientRow[]>`
      SELECT r.id, r.address, r.custom_key, r.custom_value, COALESCE(n.name, '') AS name, ar.parked, ar.parked_at, ar.next_attempt_at,
             ar.consecutive_failures, ar.last_error_code, ar.last_error_message, ar.last_error_detail,
             t.accrued, t.owed, t.in_flight, t.parked_msat, t.paid, ${WAITING_COLUMNS}
      FROM recipient r
      CROSS JOIN LATERAL (SELECT * FROM app_recipient a WHERE a.recipient_id = r.id ${ofApp} ORDER BY ${WORST_FIRST} LIMIT 1) ar
      LEFT JOIN LATERAL (SELECT a.name FROM app_recipient a WHERE a.recipient_id = r.id ${ofApp} AND a.name <> '' ORDER BY a.updated_at DESC, a.app_id LIMIT 1) n ON true
      ${filter.order === 'accrued' ? Prisma.sql`JOIN (${totals(Prisma.empty)}) t ON t.recipient_id = r.id` : Prisma.sql`CROSS JOIN LATERAL (${totals(Prisma.sql`AND b.recipient_id = r.id`)}) t`}
      ${waitingJoin(this.fingerprint)}
      ${conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty}
      ORDER BY ${filter.order === 'accrued' ? Prisma.sql`t.accrued DESC, r.id DESC` : Prisma.sql`r.id DESC`} LIMIT ${filter.limit + 1}`;
    const { rows, nextBefore } = pageOf(found, filter.limit);
    const apps = filter.tenant === null ? await this.appStates(rows.map((r) => r.id)) : undefined;
    return {
      recipients: rows.map((r) => recipientListView(r, apps && (apps.get(r.id) ?? []))),
      // Ordered by accrued, the list is one page (id cursors cannot page it).
      nextBefore: filter.order === 'accrued' ? null : nextBefore,
    };
  }

  // Every app's name, state and money for these recipients (admins), worst-off first.
  private async appStates(recipientIds: bigint[]): Promise<Map<bigint, AppStateRow[]>> {
    const rows = await this.prisma.$queryRaw<AppStateRow[]>`
      SELECT a.recipient_id, a.app_id, a.name, a.parked, a.parked_at, a.next_attempt_at, a.consecutive_failures,
             a.last_error_code, a.last_error_message, a.last_error_detail,
             COALESCE(SUM(b.accrued_msat), 0)::bigint AS accrued, COALESCE(SUM(b.owed_msat), 0)::bigint AS owed,
             COALESCE(SUM(b.in_flight_msat), 0)::bigint AS in_flight, COALESCE(SUM(b.parked_msat), 0)::bigint AS parked_msat,
             COALESCE(SUM(b.paid_msat), 0)::bigint AS paid
      FROM app_recipient a LEFT JOIN balance b ON b.recipient_id = a.recipient_id AND b.app_id = a.app_id
      WHERE a.recipient_id = ANY(${recipientIds.map(String)}::bigint[])
      GROUP BY a.recipient_id, a.app_id ORDER BY a.recipient_id, ${WORST_FIRST}`;
    const byRecipient = new Map<bigint, AppStateRow[]>();
    for (const row of rows) byRecipient.set(row.recipient_id, [...(byRecipient.get(row.recipient_id) ?? []), row]);
    return byRecipient;
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

  // An operator has looked at a parked recipient: the parked money of the apps in `scope` is owed again, paid from
  // the next run; every other app's stays parked. `changed` is false when none of those apps had it parked. Null
  // when the caller cannot see the recipient; refused (404, saying so) when the apps named have no money for it.
  async unpark(tenant: string | null, identity: RecipientIdentity, scope: UnparkScope) {
    const recipient = await this.find(tenant, identity);
    if (!recipient) return null;
    const recipientId = BigInt(recipient.id);
    const apps =
      'allApps' in scope ? (await this.prisma.appRecipient.findMany({ where: { recipientId }, select: { appId: true } })).map((a) => a.appId) : scope.apps;
    const results = await this.prisma.$transaction(async (tx) => {
      const moved: (boolean | null)[] = [];
      for (const appId of apps) moved.push(await unpark(tx, { recipientId, appId }));
      return moved;
    });
    if (results.every((r) => r === null)) {
      const whose = apps.length === 1 ? `app ${JSON.stringify(apps[0])} has` : 'these apps have';
      const hint = tenant === null ? ': an admin key names the app whose money to unpark (app), or every app (allApps: true)' : '';
      throw new AppError(ErrorCode.NotFound, `${whose} no money for this recipient${hint}`);
    }
    return { ...(await this.get(tenant, recipientId))!, changed: results.includes(true) };
  }
}
