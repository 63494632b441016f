import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PaymentMethod, PaymentStatus, PayoutStatus, transferRemainder } from '@splitstream/ledger';
import { PAYMENT_ROW_COLUMNS, type PaymentRow } from '@splitstream/payments';
import { Prisma, PrismaService } from '@splitstream/persistence';
import type { DueBalance, RemainderTransfer } from '../run/plan.js';
import type { RunCounts } from '../run/record.js';
import { BOOST_TRIGGER } from '../jobs.js';

type Tx = Prisma.TransactionClient;

// Which unknown payments a reconciliation looks at: every app's (tenant null) or one app's; all, or these.
export interface ReconcileScope {
  tenant: string | null;
  paymentIds?: bigint[];
}

// A payout row whose run gave no sign of life (heartbeat, start, creation) for `seconds`: its worker is gone.
export const runIsStale = (seconds: number) => Prisma.sql`COALESCE(heartbeat_at, started_at, created_at) < now() - make_interval(secs => ${seconds})`;

// A recipient that may be paid for one app (`ar`, its app_recipient row): not parked nor backing off for that app.
const payableRecipient = Prisma.sql`NOT ar.parked AND (ar.next_attempt_at IS NULL OR ar.next_attempt_at <= now())`;

// A recipient whose stream money from one app is due: payable, and that app owes it at least the minimum payout
// in all.
export const dueRecipient = (minMsat: bigint) => Prisma.sql`
  ${payableRecipient}
  AND (ar.recipient_id, ar.app_id) IN (SELECT recipient_id, app_id FROM balance WHERE boost_id IS NULL
                                       GROUP BY recipient_id, app_id HAVING SUM(owed_msat) >= ${minMsat})`;

// A Lightning Address a run may pay (the run never resolves one): its route is fresh and was resolved under this
// process's fingerprint (see AddressStore), and an LNURL-pay route's domain (asked for each invoice) is not behind
// an open circuit breaker of this fingerprint.
const payableAddress = (fingerprint: string) => Prisma.sql`lr.expires_at > now() AND lr.fingerprint = ${fingerprint}
  AND NOT (lr.kind = 'lnurlp' AND EXISTS (SELECT 1 FROM lnaddress_domain d
                                          WHERE d.domain = split_part(r.address, '@', 2) AND d.open_until > now() AND d.fingerprint = ${fingerprint}))`;

// Boost shares owed to payable recipients (a boost is paid whatever its size: what cannot be sent alone joins the
// stream balance), read through the balance_boost_owed partial index; `routed` false: those to a Lightning address
// without a fresh route.
const owedBoostShares = (fingerprint: string, routed = true) => Prisma.sql`
  FROM balance b JOIN recipient r ON r.id = b.recipient_id
  JOIN app_recipient ar ON ar.recipient_id = b.recipient_id AND ar.app_id = b.app_id
  LEFT JOIN lnaddress_route lr ON lr.address = r.address
  WHERE b.boost_id IS NOT NULL AND b.owed_msat > 0 AND ${payableRecipient}
    AND ${routed ? Prisma.sql`(r.address NOT LIKE '%@%' OR ${payableAddress(fingerprint)})` : Prisma.sql`r.address LIKE '%@%' AND NOT COALESCE(${payableAddress(fingerprint)}, false)`}`;

// An invoice payment about to be sent, with what its address's LNURL-pay route says about getting an invoice.
export interface InvoiceWanted {
  id: bigint;
  address: string;
  amount_sats: bigint;
  comment: string | null; // chosen by the plan, within the address's commentAllowed
  route: string | null; // its route's kind under this fingerprint; null: none (another process's, or gone)
  callback: string | null;
  metadata_hash: string | null;
}

// The payout run's reads and its run row: every query of a run, so the runner is a sequence of calls.
// A run's status moves only forward and only from the status its mover expects (queued -> running -> final, or
// queued -> skipped), so a worker that lost a run can never overwrite what another decided.
@Injectable()
export class PayoutStore {
  constructor(private readonly prisma: PrismaService) {}

  // The balances a run pays, locked for the plan's transaction. A Lightning Address only with a fresh route. Each
  // balance carries its own app's episode metadata and the app's registered name (its id when it registered none).
  // Stream balances of due recipients, or with `boostIds` those boosts' shares owed to payable recipients.
  dueBalances(tx: Tx, minMsat: bigint, fingerprint: string, boostIds?: bigint[]): Promise<DueBalance[]> {
    const kind =
      boostIds === undefined
        ? Prisma.sql`b.boost_id IS NULL AND ${dueRecipient(minMsat)}`
        : Prisma.sql`b.boost_id = ANY(${boostIds.map(String)}::bigint[]) AND ${payableRecipient}`;
    return tx.$queryRaw<DueBalance[]>`
      SELECT b.id AS "balanceId", b.recipient_id AS "recipientId", b.app_id AS "appId", b.owed_msat AS "owedMsat",
             (SELECT SUM(e.amount_msat) FROM listening_event e
               WHERE e.id IN (SELECT event_id FROM allocation WHERE balance_id = b.id AND payment_id IS NULL))::bigint AS "coveredMsat",
             b.feed_guid AS "feedGuid", b.item_guid AS "itemGuid", b.remote_feed_guid AS "remoteFeedGuid", b.remote_item_guid AS "remoteItemGuid",
             r.address, r.custom_key AS "customKey", r.custom_value AS "customValue", ar.consecutive_failures AS "consecutiveFailures",
             lr.kind AS route, lr.pubkey AS "resolvedPubkey", lr.custom_records AS "resolvedRecords",
             lr.min_sendable_msat AS "minSendableMsat", lr.max_sendable_msat AS "maxSendableMsat", lr.comment_allowed AS "commentAllowed",
             b.name, COALESCE(app.name, b.app_id) AS "appName", b.app_version AS "appVersion", b.sender_name AS "senderName", b.position,
             COALESCE(e.feed_title, '') AS "feedTitle", COALESCE(e.item_title, '') AS "itemTitle", COALESCE(e.feed_url, '') AS "feedUrl",
             e.feed_id AS "feedId", e.item_id AS "itemId"
      FROM balance b JOIN recipient r ON r.id = b.recipient_id
      JOIN app_recipient ar ON ar.recipient_id = b.recipient_id AND ar.app_id = b.app_id
      LEFT JOIN app ON app.id = b.app_id
      LEFT JOIN episode e ON e.app_id = b.app_id AND e.feed_guid = b.feed_guid AND e.item_guid = b.item_guid
      LEFT JOIN lnaddress_route lr ON lr.address = r.address
      WHERE b.owed_msat > 0 AND ${kind} AND (r.address NOT LIKE '%@%' OR ${payableAddress(fingerprint)})
      ORDER BY b.recipient_id, b.id
      FOR UPDATE OF b`;
  }

  // The boosts a round pays: every app with shares owed to payable recipients takes part, with its oldest boosts,
  // whole, up to about `sharesPerApp` shares (always its oldest one). So no app's many boosts, nor its boosts of many
  // recipients, keep another app's boost out of a round. In turn order: each app's first, then each app's second...,
  // apps in a new random order each round (no app always goes first).
  async nextBoosts(tx: Tx, fingerprint: string, sharesPerApp: number): Promise<{ boostId: bigint; appId: string }[]> {
    const rows = await tx.$queryRaw<{ boost_id: bigint; app_id: string }[]>`
      SELECT boost_id, app_id FROM (
        SELECT boost_id, app_id, turn, SUM(shares) OVER (PARTITION BY app_id ORDER BY boost_id ROWS UNBOUNDED PRECEDING) - shares AS before
        FROM (SELECT b.boost_id, b.app_id, COUNT(*) AS shares, row_number() OVER (PARTITION BY b.app_id ORDER BY b.boost_id) AS turn
              ${owedBoostShares(fingerprint)}
              GROUP BY b.app_id, b.boost_id) owed
      ) turns
      WHERE before < ${sharesPerApp} ORDER BY turn, md5(app_id || ${randomUUID()})`;
    return rows.map((r) => ({ boostId: r.boost_id, appId: r.app_id }));
  }

  // Whether boost shares are owed to payable recipients: sendable now, or waiting for an address's route.
  async boostsOwed(fingerprint: string): Promise<{ payable: boolean; unrouted: boolean }> {
    const [row] = await this.prisma.$queryRaw<{ payable: boolean; unrouted: boolean }[]>`
      SELECT EXISTS (SELECT 1 ${owedBoostShares(fingerprint)}) AS payable, EXISTS (SELECT 1 ${owedBoostShares(fingerprint, false)}) AS unrouted`;
    return row!;
  }

  // A scheduled or manual run queued or running that is alive (written within `staleSeconds`, as PayoutRequests
  // judges it): a boost run hands the lock over to it. A row left queued by a lost job does not hold boosts up.
  async streamRunActive(staleSeconds: number): Promise<boolean> {
    const [row] = await this.prisma.$queryRaw<{ active: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM payout WHERE status IN (${PayoutStatus.Queued}, ${PayoutStatus.Running}) AND NOT superseded AND trigger <> ${BOOST_TRIGGER}
                       AND NOT ${runIsStale(staleSeconds)}) AS active`;
    return row!.active;
  }

  // A queued run waiting for the lock says it is alive (so it is not superseded as lost). False once it is not
  // queued any more (superseded, or ended elsewhere): it stops waiting.
  async stillWaiting(payoutId: bigint): Promise<boolean> {
    const { count } = await this.prisma.payout.updateMany({
      where: { id: payoutId, status: PayoutStatus.Queued, superseded: false },
      data: { heartbeatAt: new Date() },
    });
    return count === 1;
  }

  // Whether this run's row is still running (a run whose lock was taken over finds it interrupted).
  async stillRunning(payoutId: bigint): Promise<boolean> {
    return (await this.prisma.payout.count({ where: { id: payoutId, status: PayoutStatus.Running } })) === 1;
  }

  // A scheduled or manual run other than `payoutId` running (one that holds the lock for long: that run is skipped).
  async otherStreamRunRunning(payoutId: bigint): Promise<boolean> {
    const [row] = await this.prisma.$queryRaw<{ running: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM payout WHERE status = ${PayoutStatus.Running} AND trigger <> ${BOOST_TRIGGER} AND id <> ${payoutId}) AS running`;
    return row!.running;
  }

  // Sub-sat remainders moved onto the balance that carries them (the plan's transfers), in the plan's transaction.
  async transferRemainders(tx: Tx, transfers: RemainderTransfer[]): Promise<void> {
    for (const t of transfers) await transferRemainder(tx, t.fromBalanceId, t.toBalanceId, t.msat);
  }

  // Which of these payments still need an invoice, with their address's route under this fingerprint.
  invoicesWanted(ids: bigint[], fingerprint: string): Promise<InvoiceWanted[]> {
    return this.prisma.$queryRaw<InvoiceWanted[]>`
      SELECT p.id, r.address, p.amount_sats, p.comment, lr.kind AS route, lr.callback, lr.metadata_hash
      FROM payment p JOIN recipient r ON r.id = p.recipient_id
      LEFT JOIN lnaddress_route lr ON lr.address = r.address AND lr.fingerprint = ${fingerprint}
      WHERE p.id = ANY(${ids.map(String)}::bigint[]) AND p.status = ${PaymentStatus.Pending} AND p.method = ${PaymentMethod.Invoice} AND p.invoice IS NULL
      ORDER BY p.id`;
  }

  // Payments in `status` (of one run, or of every run), locked for the move that follows.
  async inStatus(tx: Tx, status: PaymentStatus, payoutId?: bigint): Promise<bigint[]> {
    const rows = await tx.$queryRaw<{ id: bigint }[]>`
      SELECT id FROM payment WHERE status = ${status} ${payoutId === undefined ? Prisma.empty : Prisma.sql`AND payout_id = ${payoutId}`}
      ORDER BY id FOR UPDATE`;
    return rows.map((r) => r.id);
  }

  // Unknown payments after `afterId` (of one app's balances, with a tenant; of these ids, with `ids`), oldest first.
  unknownPayments(scope: ReconcileScope, afterId: bigint, limit: number): Promise<PaymentRow[]> {
    const tenant = scope.tenant === null ? Prisma.empty : Prisma.sql`AND p.balance_id IN (SELECT id FROM balance WHERE app_id = ${scope.tenant})`;
    const only = scope.paymentIds === undefined ? Prisma.empty : Prisma.sql`AND p.id = ANY(${scope.paymentIds.map(String)}::bigint[])`;
    return this.prisma.$queryRaw<PaymentRow[]>`
      SELECT ${PAYMENT_ROW_COLUMNS} FROM payment p
      WHERE p.status = ${PaymentStatus.Unknown} AND p.id > ${afterId} ${tenant} ${only} ORDER BY p.id LIMIT ${limit}`;
  }

  async counts(payoutId: bigint): Promise<RunCounts> {
    const [row] = await this.prisma.$queryRaw<{ keysends: bigint; succeeded: bigint; failed: bigint; unknown: bigint; cancelled: bigint }[]>`
      SELECT COUNT(*) AS keysends, COUNT(*) FILTER (WHERE status = ${PaymentStatus.Succeeded}) AS succeeded,
             COUNT(*) FILTER (WHERE status = ${PaymentStatus.Failed}) AS failed, COUNT(*) FILTER (WHERE status = ${PaymentStatus.Unknown}) AS unknown,
             COUNT(*) FILTER (WHERE status = ${PaymentStatus.Cancelled}) AS cancelled
      FROM payment WHERE payout_id = ${payoutId}`;
    return {
      keysends: Number(row!.keysends),
      succeeded: Number(row!.succeeded),
      failed: Number(row!.failed),
      unknown: Number(row!.unknown),
      cancelled: Number(row!.cancelled),
    };
  }

  // A boost run's row, running from the start (written by the worker that holds the lock, after its recovery).
  async createBoostRun(): Promise<bigint> {
    const [row] = await this.prisma.$queryRaw<{ id: bigint }[]>`
      INSERT INTO payout (trigger, status, started_at, heartbeat_at) VALUES (${BOOST_TRIGGER}, ${PayoutStatus.Running}, now(), now()) RETURNING id`;
    return row!.id;
  }

  // queued -> running. False when the run is not queued any more (finished, or taken and interrupted elsewhere).
  async start(payoutId: bigint): Promise<boolean> {
    const now = new Date();
    const { count } = await this.prisma.payout.updateMany({
      where: { id: payoutId, status: PayoutStatus.Queued },
      data: { status: PayoutStatus.Running, startedAt: now, heartbeatAt: now },
    });
    return count === 1;
  }

  // queued -> skipped (another run holds the lock). A run that started is never skipped.
  async skip(payoutId: bigint, note: string): Promise<boolean> {
    return this.end(payoutId, PayoutStatus.Queued, PayoutStatus.Skipped, note);
  }

  // running -> its final status, written only while it is still running (a taken-over run was already ended).
  async finish(payoutId: bigint, status: PayoutStatus, note: string | null): Promise<boolean> {
    return this.end(payoutId, PayoutStatus.Running, status, note);
  }

  // Runs still `running` whose worker is gone (the caller holds the payout lock): interrupted.
  async interruptRunning(tx: Tx): Promise<number> {
    const { count } = await tx.payout.updateMany({
      where: { status: PayoutStatus.Running },
      data: { status: PayoutStatus.Interrupted, finishedAt: new Date(), note: 'its worker stopped before the run ended' },
    });
    return count;
  }

  async beat(payoutId: bigint): Promise<void> {
    await this.prisma.payout.updateMany({ where: { id: payoutId, status: PayoutStatus.Running }, data: { heartbeatAt: new Date() } });
  }

  // Running runs whose heartbeat is older than `timeoutSeconds`.
  async staleRuns(timeoutSeconds: number): Promise<bigint[]> {
    const rows = await this.prisma.$queryRaw<{ id: bigint }[]>`
      SELECT id FROM payout WHERE status = ${PayoutStatus.Running} AND ${runIsStale(timeoutSeconds)}`;
    return rows.map((r) => r.id);
  }

  private async end(payoutId: bigint, from: PayoutStatus, to: PayoutStatus, note: string | null): Promise<boolean> {
    const { count } = await this.prisma.payout.updateMany({ where: { id: payoutId, status: from }, data: { status: to, note, finishedAt: new Date() } });
    return count === 1;
  }
}
