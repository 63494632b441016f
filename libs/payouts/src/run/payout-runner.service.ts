import { randomBytes, randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { KeysendStatus, PaymentMethod, PayoutStatus, reserve, transferRemainder } from '@splitstream/ledger';
import { satsForWallet, satsToMsat, splitWholeSats } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { Prisma, PrismaService } from '@splitstream/persistence';
import { type PaymentOutcome, WALLET, type Wallet } from '@splitstream/wallet';
import { dispatchPayments, type StoredKeysend } from './dispatch.js';
import { dueRecipient, type InvoiceRefusal, LightningAddresses } from './lightning-addresses.js';
import { PayoutLock } from './payout-lock.js';
import { type DueBalance, planPayout } from './plan.js';
import {
  applyRecipientUpdates,
  applyRecord,
  decideRecord,
  failRecipient,
  finalRunStatus,
  type RetryPolicy,
  type RunCounts,
  type SentKeysend,
  standingsOf,
} from './record.js';

type Tx = Prisma.TransactionClient;

const TRANSACTION_TIMEOUT_MS = 120_000;
const HEARTBEAT_EVERY_MS = 5_000;
// On shutdown the request in flight may finish within this; then it is abandoned (its outcome is unknown).
const SHUTDOWN_GRACE_MS = 7_000;
const MAX_RATE_LIMIT_WAITS = 5;
const MAX_RATE_LIMIT_WAIT_MS = 30_000;

interface ClaimedKeysend extends StoredKeysend {
  id: bigint;
  balance_id: bigint;
  recipient_id: bigint;
}

// A payout run, in three phases (plan.ts, dispatch.ts, record.ts), crash-safe at every step: keysends are
// recorded `pending` with their money reserved (owed -> in flight) before any request; each chunk is marked
// `sending` before its request; outcomes become ledger movements. A crash leaves `sending` keysends `unknown`
// (never re-sent blindly) and `pending` ones go back to owed when the next run or worker start recovers.
@Injectable()
export class PayoutRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PayoutRunner.name);
  // Set at shutdown: no new chunk is sent.
  private readonly stopping = new AbortController();
  // Set a grace period later: the wallet request still in flight is abandoned (its outcome becomes unknown).
  private readonly abandoning = new AbortController();
  private current: Promise<void> | undefined;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(WALLET) private readonly wallet: Wallet,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly addresses: LightningAddresses,
  ) {}

  private get minMsat(): bigint {
    return satsToMsat(this.config.MIN_PAYOUT_SATS);
  }

  private get policy(): RetryPolicy {
    return { baseSeconds: this.config.RETRY_BASE_SECONDS, maxSeconds: this.config.RETRY_MAX_SECONDS, maxAttempts: this.config.MAX_ATTEMPTS };
  }

  async run(payoutId: bigint): Promise<void> {
    if (this.stopping.signal.aborted) {
      await this.finishRun(payoutId, PayoutStatus.Interrupted, 'the worker was stopping; the next run pays what this one would have');
      return;
    }
    this.current = this.runLocked(payoutId);
    try {
      await this.current;
    } finally {
      this.current = undefined;
    }
  }

  // SIGTERM/SIGINT: no new chunk is sent, the one in flight gets a grace period to answer, the rest goes back
  // to owed and the run ends `interrupted`.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    const abandon = setTimeout(() => this.abandoning.abort(), SHUTDOWN_GRACE_MS);
    await this.current?.catch(() => undefined);
    clearTimeout(abandon);
  }

  // At worker start: settle what a run that died left behind (if no live run holds the lock).
  async recoverInterrupted(): Promise<void> {
    const lock = await this.acquireLock();
    if (!lock) return;
    try {
      await this.recover(undefined);
    } finally {
      await lock.release();
    }
  }

  private async runLocked(payoutId: bigint): Promise<void> {
    const lock = await this.acquireLock();
    if (!lock) {
      await this.finishRun(payoutId, PayoutStatus.Skipped, 'another payout run was in progress');
      return;
    }
    const heartbeat = setInterval(() => void this.beat(payoutId), HEARTBEAT_EVERY_MS);
    const started = Date.now();
    const timer = this.metrics.payoutRunSeconds.startTimer();
    try {
      await this.recover(payoutId);
      await this.prisma.payout.update({ where: { id: payoutId }, data: { status: PayoutStatus.Running, startedAt: new Date(), heartbeatAt: new Date() } });
      this.logger.log({ payoutId: String(payoutId) }, 'payout run started');
      await this.addresses.resolveDue(this.minMsat, this.policy);
      const invoicePayments = await this.prepare(payoutId);
      const stopReason = await this.send(payoutId, invoicePayments > 0);
      const counts = await this.counts(payoutId);
      const { status, note } = this.stopping.signal.aborted
        ? { status: PayoutStatus.Interrupted, note: 'the worker was stopped during the run' }
        : finalRunStatus(counts, stopReason);
      await this.finishRun(payoutId, status, note);
      timer({ status });
      this.logger.log({ payoutId: String(payoutId), status, note, ...counts, ms: Date.now() - started }, 'payout run finished');
    } catch (error) {
      const reason = `the run failed: ${(error as Error).message}`;
      this.logger.error({ payoutId: String(payoutId), err: error }, reason);
      await this.prisma.$transaction((tx) => this.cancelPending(tx, reason, payoutId)).catch(() => undefined);
      await this.finishRun(payoutId, PayoutStatus.Failed, reason).catch(() => undefined);
      timer({ status: PayoutStatus.Failed });
    } finally {
      clearInterval(heartbeat);
      await lock.release();
    }
  }

  // The lock, or, when a run holds it whose heartbeat is older than the timeout, that run's session ended first.
  private async acquireLock(): Promise<PayoutLock | undefined> {
    const lock = await PayoutLock.tryAcquire(this.config.DATABASE_URL);
    if (lock) return lock;
    const stale = await this.prisma.$queryRaw<{ id: bigint }[]>`
      SELECT id FROM payout WHERE status = ${PayoutStatus.Running}
        AND COALESCE(heartbeat_at, started_at, created_at) < now() - make_interval(secs => ${this.config.PAYOUT_HEARTBEAT_TIMEOUT_SECONDS})`;
    if (stale.length === 0) return undefined;
    this.logger.warn(`payout run ${stale.map((s) => s.id).join(', ')} stopped beating: taking its lock over`);
    await PayoutLock.takeOver(this.prisma);
    for (let attempt = 0; attempt < 20; attempt++) {
      const taken = await PayoutLock.tryAcquire(this.config.DATABASE_URL);
      if (taken) return taken;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }

  private async beat(payoutId: bigint): Promise<void> {
    await this.prisma.payout
      .updateMany({ where: { id: payoutId, status: PayoutStatus.Running }, data: { heartbeatAt: new Date() } })
      .catch((error: Error) => this.logger.warn(`heartbeat: ${error.message}`));
  }

  private async finishRun(payoutId: bigint, status: PayoutStatus, note: string | null): Promise<void> {
    await this.prisma.payout.update({ where: { id: payoutId }, data: { status, note, finishedAt: new Date() } });
    this.metrics.payoutRuns.inc({ status });
  }

  private async recover(currentPayoutId: bigint | undefined): Promise<void> {
    await this.prisma.$transaction(
      async (tx) => {
        const inFlight = await tx.keysend.updateMany({
          where: { status: KeysendStatus.Sending },
          data: {
            status: KeysendStatus.Unknown,
            errorMessage: 'the worker stopped while this request may have been in flight',
            finishedAt: new Date(),
          },
        });
        const cancelled = await this.cancelPending(tx, 'never sent: the payout run was interrupted');
        const interrupted = await tx.payout.updateMany({
          where: { status: PayoutStatus.Running, ...(currentPayoutId !== undefined && { id: { not: currentPayoutId } }) },
          data: { status: PayoutStatus.Interrupted, finishedAt: new Date(), note: 'its worker stopped before the run ended' },
        });
        if (inFlight.count || cancelled || interrupted.count) {
          this.logger.warn(
            { unknown: inFlight.count, cancelled, interruptedRuns: interrupted.count },
            'recovered an interrupted run: keysends that may have gone out are unknown, the rest is owed again',
          );
        }
      },
      { timeout: TRANSACTION_TIMEOUT_MS },
    );
  }

  // Recorded but never sent: cancelled, the amounts back to owed. `payoutId` limits it to one run.
  private async cancelPending(tx: Tx, reason: string, payoutId?: bigint): Promise<number> {
    const pending = await tx.$queryRaw<{ id: bigint; balance_id: bigint; recipient_id: bigint; amount_sats: number }[]>`
      SELECT id, balance_id, recipient_id, amount_sats FROM keysend
      WHERE status = ${KeysendStatus.Pending} ${payoutId === undefined ? Prisma.empty : Prisma.sql`AND payout_id = ${payoutId}`}
      ORDER BY id FOR UPDATE`;
    const decision = decideRecord(
      pending.map(sentOf),
      pending.map(() => ({ status: 'not_paid', code: null, message: reason, scope: 'request' })),
      new Map(),
      this.policy,
      new Date(),
    );
    await applyRecord(tx, decision);
    return pending.length;
  }

  // Plan: what this run pays, recorded and reserved (owed -> in flight) in one transaction.
  // A Lightning Address is planned only with a resolution (resolveDue has just refreshed the expired ones).
  // Returns how many of the payments are invoice payments.
  private async prepare(payoutId: bigint): Promise<number> {
    return this.prisma.$transaction(
      async (tx) => {
        const due = await tx.$queryRaw<DueBalance[]>`
          SELECT b.id AS "balanceId", b.recipient_id AS "recipientId", b.app_id AS "appId", b.owed_msat AS "owedMsat",
                 (SELECT SUM(e.amount_msat) FROM listening_event e
                   WHERE e.id IN (SELECT event_id FROM allocation WHERE balance_id = b.id AND keysend_id IS NULL))::bigint AS "coveredMsat",
                 b.feed_guid AS "feedGuid", b.item_guid AS "itemGuid", b.remote_feed_guid AS "remoteFeedGuid", b.remote_item_guid AS "remoteItemGuid",
                 r.address, r.custom_key AS "customKey", r.custom_value AS "customValue", r.consecutive_failures AS "consecutiveFailures",
                 lr.kind AS resolution, lr.pubkey AS "resolvedPubkey", lr.custom_records AS "resolvedRecords",
                 lr.min_sendable_msat AS "minSendableMsat", lr.max_sendable_msat AS "maxSendableMsat",
                 b.name, b.app_name AS "appName", b.app_version AS "appVersion", b.sender_name AS "senderName", b.position,
                 COALESCE(e.feed_title, '') AS "feedTitle", COALESCE(e.item_title, '') AS "itemTitle", COALESCE(e.feed_url, '') AS "feedUrl",
                 e.feed_id AS "feedId", e.item_id AS "itemId"
          FROM balance b JOIN recipient r ON r.id = b.recipient_id
          LEFT JOIN episode e ON e.feed_guid = b.feed_guid AND e.item_guid = b.item_guid
          LEFT JOIN lnaddress_resolution lr ON lr.address = r.address
          WHERE b.owed_msat > 0 AND ${dueRecipient(this.minMsat)} AND (r.address NOT LIKE '%@%' OR lr.address IS NOT NULL)
          ORDER BY b.recipient_id, b.id
          FOR UPDATE OF b`;
        const plan = planPayout(due, randomUUID, this.wallet.choosesPreimage ? () => randomBytes(32).toString('hex') : undefined);
        for (const t of plan.transfers) await transferRemainder(tx, t.fromBalanceId, t.toBalanceId, t.msat);
        const created = await tx.keysend.createManyAndReturn({
          data: plan.keysends.map((k) => ({
            payoutId,
            recipientId: k.recipientId,
            balanceId: k.balanceId,
            reference: k.reference,
            method: k.method,
            destination: k.destination,
            amountSats: satsForWallet(k.amountSats),
            attempt: k.attempt,
            status: KeysendStatus.Pending,
            customRecords: k.customRecords,
            preimage: k.preimage ?? null,
            paymentHash: k.paymentHash ?? null,
          })),
          select: { id: true, balanceId: true, amountSats: true },
        });
        await reserve(tx, created.map((k) => ({ keysendId: k.id, balanceId: k.balanceId, msat: satsToMsat(k.amountSats) })));
        if (plan.unbuildable.length > 0) {
          const standings = await standingsOf(tx, plan.unbuildable.map((u) => u.recipientId));
          const now = new Date();
          await applyRecipientUpdates(
            tx,
            plan.unbuildable.map((u) => failRecipient(standings.get(u.recipientId)!, { code: u.code, message: u.message }, this.policy, now)),
          );
          for (const u of plan.unbuildable) this.logger.warn({ recipientId: String(u.recipientId), balanceId: String(u.balanceId) }, u.message);
        }
        return plan.keysends.filter((k) => k.method === PaymentMethod.Invoice).length;
      },
      { timeout: TRANSACTION_TIMEOUT_MS },
    );
  }

  // Dispatch and record, chunk by chunk. Returns why the run stopped early, if it did.
  // `invoices`: whether the run has invoice payments, which get their invoices chunk by chunk.
  private async send(payoutId: bigint, invoices: boolean): Promise<string | undefined> {
    for (;;) {
      if (this.stopping.signal.aborted) {
        await this.prisma.$transaction((tx) => this.cancelPending(tx, 'never sent: the worker was stopped', payoutId));
        return undefined;
      }
      const refused = invoices ? await this.addresses.obtainInvoices(payoutId, this.config.KEYSEND_BATCH_SIZE) : [];
      if (refused.length > 0) await this.recordRefused(refused);
      // Claimed durably before the request: from here on a crash leaves them `unknown`, never re-sent blindly.
      const chunk = await this.prisma.$queryRaw<ClaimedKeysend[]>`
        WITH claimed AS (
          UPDATE keysend SET status = ${KeysendStatus.Sending}, sent_at = now()
          WHERE id IN (SELECT id FROM keysend WHERE payout_id = ${payoutId} AND status = ${KeysendStatus.Pending}
                       ORDER BY id LIMIT ${this.config.KEYSEND_BATCH_SIZE} FOR UPDATE SKIP LOCKED)
          RETURNING id, balance_id, recipient_id, amount_sats, reference, custom_records, preimage, method, destination, invoice, payment_hash)
        SELECT * FROM claimed ORDER BY id`;
      if (chunk.length === 0) return undefined;
      const result = await dispatchPayments(this.wallet, chunk, {
        signal: this.abandoning.signal,
        maxRateLimitWaits: MAX_RATE_LIMIT_WAITS,
        maxWaitMs: MAX_RATE_LIMIT_WAIT_MS,
      });
      await this.record(chunk.map(sentOf), result.outcomes);
      if (result.stop) {
        const reason = `the wallet refused the run: ${result.stop.message}`;
        this.logger.warn({ payoutId: String(payoutId), code: result.stop.code }, reason);
        await this.prisma.$transaction((tx) => this.cancelPending(tx, reason, payoutId));
        return reason;
      }
    }
  }

  // Invoice payments that got no acceptable invoice: failed (nothing was sent), their recipients' failure.
  private async recordRefused(refused: InvoiceRefusal[]): Promise<void> {
    const rows = await this.prisma.$queryRaw<{ id: bigint; balance_id: bigint; recipient_id: bigint; amount_sats: number }[]>`
      SELECT id, balance_id, recipient_id, amount_sats FROM keysend
      WHERE id = ANY(${refused.map((r) => String(r.keysendId))}::bigint[]) AND status = ${KeysendStatus.Pending} ORDER BY id`;
    const reasons = new Map(refused.map((r) => [r.keysendId, r.reason]));
    await this.record(
      rows.map(sentOf),
      rows.map((k) => ({ status: 'not_paid', scope: 'item', ...reasons.get(k.id)! })),
      { fromPending: true },
    );
  }

  // `fromPending`: keysends never sent, moved to `sending` in the same transaction so that recording can finish them.
  private async record(sent: SentKeysend[], outcomes: PaymentOutcome[], { fromPending = false } = {}): Promise<void> {
    const { decision, succeeded } = await this.prisma.$transaction(
      async (tx) => {
        if (fromPending) {
          await tx.keysend.updateMany({ where: { id: { in: sent.map((k) => k.keysendId) }, status: KeysendStatus.Pending }, data: { status: KeysendStatus.Sending } });
        }
        const standings = await standingsOf(tx, sent.map((k) => k.recipientId));
        const decision = decideRecord(sent, outcomes, standings, this.policy, new Date());
        return { decision, ...(await applyRecord(tx, decision)) };
      },
      { timeout: TRANSACTION_TIMEOUT_MS },
    );
    for (const outcome of outcomes) this.metrics.keysends.inc({ outcome: outcome.status });
    for (const s of decision.succeeded.filter((d) => succeeded.includes(d.keysend))) {
      this.metrics.paidSats.inc(Number(splitWholeSats(s.keysend.msat).sats));
      this.metrics.feeSats.inc(s.feeSats);
    }
    for (const u of decision.unknown) this.logger.warn({ keysendId: String(u.keysend.keysendId) }, `keysend outcome unknown: ${u.reason}`);
    for (const f of decision.failed) this.logger.warn({ keysendId: String(f.keysend.keysendId), code: f.reason.code }, `keysend refused: ${f.reason.message}`);
    for (const r of decision.recipients) {
      if (r.kind === 'park') this.logger.warn({ recipientId: String(r.id), code: r.reason.code }, `recipient parked after ${r.failures} consecutive failures: ${r.reason.message}`);
    }
  }

  private async counts(payoutId: bigint): Promise<RunCounts> {
    const [row] = await this.prisma.$queryRaw<{ keysends: bigint; succeeded: bigint; failed: bigint; unknown: bigint; cancelled: bigint }[]>`
      SELECT COUNT(*) AS keysends, COUNT(*) FILTER (WHERE status = ${KeysendStatus.Succeeded}) AS succeeded,
             COUNT(*) FILTER (WHERE status = ${KeysendStatus.Failed}) AS failed, COUNT(*) FILTER (WHERE status = ${KeysendStatus.Unknown}) AS unknown,
             COUNT(*) FILTER (WHERE status = ${KeysendStatus.Cancelled}) AS cancelled
      FROM keysend WHERE payout_id = ${payoutId}`;
    return {
      keysends: Number(row!.keysends),
      succeeded: Number(row!.succeeded),
      failed: Number(row!.failed),
      unknown: Number(row!.unknown),
      cancelled: Number(row!.cancelled),
    };
  }
}

const sentOf = (k: { id: bigint; balance_id: bigint; recipient_id: bigint; amount_sats: number }): SentKeysend => ({
  keysendId: k.id,
  balanceId: k.balance_id,
  recipientId: k.recipient_id,
  msat: satsToMsat(k.amount_sats),
});
