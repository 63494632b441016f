import { randomBytes, randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, isSimulatedWallet } from '@splitstream/config';
import { PaymentMethod, PaymentStatus, PayoutStatus } from '@splitstream/ledger';
import { satsToMsat } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { type PaymentMoves, type PaymentRow, Payments } from '@splitstream/payments';
import { type PaymentOutcome, WALLET, type Wallet } from '@splitstream/wallet';
import { PayoutStore } from '../store/payout-store.js';
import { RecipientStore } from '../store/recipient-store.js';
import { dispatchPayments, type PaymentChunk, sendingChunks } from './dispatch.js';
import { type InvoiceRefusal, LightningAddresses } from './lightning-addresses.js';
import { Locks, PAYOUT_LOCK, type SessionLock } from '../store/session-lock.js';
import { planPayout } from './plan.js';
import { BoostPlanner } from '../boosts/boost-planner.js';
import { applyDecision, decideRecord, failRecipients, finalRunStatus, type RetryPolicy, type SentPayment } from './record.js';

const HEARTBEAT_EVERY_MS = 5_000;
// On shutdown the request in flight may finish within this; then it is abandoned (its outcome is unknown).
const SHUTDOWN_GRACE_MS = 7_000;
const MAX_RATE_LIMIT_WAITS = 5;
const MAX_RATE_LIMIT_WAIT_MS = 30_000;
const LOCK_POLL_MS = 1_000;
const LOCK_WAIT_MAX_MS = 3_600_000;
// A boost run's rounds: it ends after these (a PAY_BOOSTS job asks again for what is left), so it never holds the
// lock for long under a flood of boosts.
const BOOST_RUN_MAX_ROUNDS = 20;

// A payout run, in three phases (plan.ts, dispatch.ts, record.ts), crash-safe at every step: payments are
// recorded `pending` with their money reserved (owed -> in flight) before any request; each chunk is claimed
// `sending` before its request; outcomes become moves of the payments (libs/payments). A crash leaves `sending`
// payments `unknown` (never re-sent blindly) and `pending` ones go back to owed when the next run or worker start
// recovers. A run's row is written only by the worker that holds the payout lock and started it.
@Injectable()
export class PayoutRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PayoutRunner.name);
  // Set at shutdown: no new chunk is sent.
  private readonly stopping = new AbortController();
  // Set a grace period later: the wallet request still in flight is abandoned (its outcome becomes unknown).
  private readonly abandoning = new AbortController();
  // Runs this worker has in progress (a boost run and a scheduled one may be asked for at once; one gets the lock).
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @Inject(WALLET) private readonly wallet: Wallet,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly store: PayoutStore,
    private readonly recipients: RecipientStore,
    private readonly payments: Payments,
    private readonly addresses: LightningAddresses,
    private readonly locks: Locks,
    private readonly boosts: BoostPlanner,
  ) {}

  private get minMsat(): bigint {
    return satsToMsat(this.config.MIN_PAYOUT_SATS);
  }

  private get policy(): RetryPolicy {
    return { baseSeconds: this.config.RETRY_BASE_SECONDS, maxSeconds: this.config.RETRY_MAX_SECONDS, maxAttempts: this.config.MAX_ATTEMPTS };
  }

  // A scheduled or manual run: every due stream balance. While a boost run holds the lock this run waits for it (a
  // boost run hands the lock over before its next chunk once a run is queued); it is skipped only when another
  // scheduled or manual run holds the lock.
  async run(payoutId: bigint): Promise<void> {
    if (this.stopping.signal.aborted) {
      await this.skip(payoutId, 'the worker was stopping; the next run pays what this one would have');
      return;
    }
    await this.tracked(async () => {
      const lock = await this.acquireLock(payoutId);
      if (!lock) return this.skip(payoutId, 'another payout run was in progress');
      await this.runLocked(
        lock,
        async () => ((await this.store.start(payoutId)) ? payoutId : undefined),
        async (id) => this.sendChunks(id, await this.prepare(id)),
      );
      // A run that could not start (its recovery failed) is not left queued: that would hold boosts up.
      await this.skip(payoutId, 'internal_error: the run could not start; operators see the worker log').catch(() => undefined);
    });
  }

  // A boost run (BoostPayer): when the lock is free, a run of its own (trigger boost) pays due boosts in rounds,
  // apps in turn, until none is left or a scheduled or manual run is queued. False when another run holds the lock
  // (nothing was written). Boosts are never paid inside a scheduled run: one app's boost payments (a hanging one,
  // one the wallet refuses) never hold up or stop another app's stream payouts.
  async runBoosts(): Promise<boolean> {
    if (this.stopping.signal.aborted) return false;
    let ran = false;
    await this.tracked(async () => {
      const lock = await this.locks.tryAcquire(PAYOUT_LOCK);
      if (!lock) return;
      ran = true;
      await this.runLocked(
        lock,
        () => this.store.createBoostRun(),
        (id) => this.sendBoostRounds(id),
      );
    });
    return ran;
  }

  private async tracked(work: () => Promise<void>): Promise<void> {
    const running = work();
    this.inFlight.add(running);
    try {
      await running;
    } finally {
      this.inFlight.delete(running);
    }
  }

  // SIGTERM/SIGINT: no new chunk is sent, the one in flight gets a grace period to answer, the rest goes back
  // to owed and the run ends `interrupted`.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    const abandon = setTimeout(() => this.abandoning.abort(), SHUTDOWN_GRACE_MS);
    await Promise.allSettled([...this.inFlight]);
    clearTimeout(abandon);
  }

  // At worker start: settle what a run that died left behind (if no live run holds the lock).
  async recoverInterrupted(): Promise<void> {
    const lock = await this.acquireLock();
    if (!lock) return;
    try {
      await this.recover();
    } finally {
      await lock.release();
    }
  }

  // Under the lock: `begin` starts the run's row (undefined: not to be run), `work` pays and says why it stopped early.
  private async runLocked(lock: SessionLock, begin: () => Promise<bigint | undefined>, work: (payoutId: bigint) => Promise<string | undefined>): Promise<void> {
    let heartbeat: NodeJS.Timeout | undefined;
    let payoutId: bigint | undefined;
    const started = Date.now();
    const timer = this.metrics.payoutRunSeconds.startTimer();
    try {
      // Whatever is still running is dead (this worker holds the lock): this run too, if its job came back to
      // another worker after its first one died. Such a run ends interrupted and is not run again under its id.
      await this.recover();
      payoutId = await begin();
      if (payoutId === undefined) {
        this.logger.warn('payout run was not queued any more: not run again');
        return;
      }
      const id = payoutId;
      heartbeat = setInterval(() => void this.store.beat(id).catch((error: Error) => this.logger.warn(`heartbeat: ${error.message}`)), HEARTBEAT_EVERY_MS);
      this.logger.log({ payoutId: String(id) }, 'payout run started');
      // Not awaited: the run never waits on resolution, nor on Redis for asking for it.
      void this.addresses.requestResolution();
      const stopReason = await work(id);
      const counts = await this.store.counts(id);
      const { status, note } = this.stopping.signal.aborted
        ? { status: PayoutStatus.Interrupted, note: 'the worker was stopped during the run' }
        : finalRunStatus(counts, stopReason);
      await this.finish(id, status, note);
      timer({ status });
      this.logger.log({ payoutId: String(id), status, note, ...counts, ms: Date.now() - started }, 'payout run finished');
    } catch (error) {
      // Apps read the note (and the cancelled keysends' reason): a code, never the internal error's text (a
      // Prisma message, a query); the detail goes to the log line only.
      const reason = 'internal_error: the run failed; operators see the worker log';
      this.logger.error({ payoutId: String(payoutId), err: error }, `the run failed: ${(error as Error).message}`);
      if (payoutId !== undefined) {
        await this.cancelPending(reason, payoutId).catch(() => undefined);
        await this.finish(payoutId, PayoutStatus.Failed, reason).catch(() => undefined);
      }
      timer({ status: PayoutStatus.Failed });
    } finally {
      clearInterval(heartbeat);
      await lock.release();
    }
  }

  // The lock, or, when a run holds it whose heartbeat is older than the timeout, that run's session ended first.
  // With `waiting` (a queued scheduled or manual run): while no other such run is running, the holder is a boost
  // run (or a worker's start-up recovery) that hands the lock over soon: wait for it, up to LOCK_WAIT_MAX_MS.
  private async acquireLock(waiting?: bigint): Promise<SessionLock | undefined> {
    const until = Date.now() + LOCK_WAIT_MAX_MS;
    let stale: bigint[];
    for (;;) {
      const lock = await this.locks.tryAcquire(PAYOUT_LOCK);
      if (lock) return lock;
      stale = await this.store.staleRuns(this.config.PAYOUT_HEARTBEAT_TIMEOUT_SECONDS);
      if (stale.length > 0) break;
      if (waiting === undefined || this.stopping.signal.aborted || Date.now() > until) return undefined;
      if ((await this.store.otherStreamRunRunning(waiting)) || !(await this.store.stillWaiting(waiting))) return undefined;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
    this.logger.warn(`payout run ${stale.join(', ')} stopped beating: taking its lock over`);
    await this.locks.takeOver(PAYOUT_LOCK);
    for (let attempt = 0; attempt < 20; attempt++) {
      const taken = await this.locks.tryAcquire(PAYOUT_LOCK);
      if (taken) return taken;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }

  private async skip(payoutId: bigint, note: string): Promise<void> {
    if (await this.store.skip(payoutId, note)) this.metrics.payoutRuns.inc({ status: PayoutStatus.Skipped });
  }

  private async finish(payoutId: bigint, status: PayoutStatus, note: string | null): Promise<void> {
    if (await this.store.finish(payoutId, status, note)) this.metrics.payoutRuns.inc({ status });
  }

  // Held by this worker's lock: payments that may have gone out are unknown, those never sent are owed again,
  // and runs still marked running are interrupted.
  private async recover(): Promise<void> {
    const { unknown, cancelled, interrupted } = await this.payments.transaction(async (moves) => {
      const sending = await this.store.inStatus(moves.tx, PaymentStatus.Sending);
      const unknown = await moves.markUnknown(
        sending.map((id) => ({ id, reason: { code: null, message: 'the worker stopped while this request may have been in flight' } })),
      );
      const pending = await this.store.inStatus(moves.tx, PaymentStatus.Pending);
      const cancelled = await moves.cancel(pending.map((id) => ({ id, reason: { code: null, message: 'never sent: the payout run was interrupted' } })));
      return { unknown: unknown.length, cancelled: cancelled.length, interrupted: await this.store.interruptRunning(moves.tx) };
    });
    if (unknown || cancelled || interrupted) {
      this.logger.warn(
        { unknown, cancelled, interruptedRuns: interrupted },
        'recovered an interrupted run: payments that may have gone out are unknown, the rest is owed again',
      );
    }
  }

  // Recorded but never sent: cancelled, the amounts back to owed.
  private async cancelPending(reason: string, payoutId: bigint): Promise<void> {
    await this.payments.transaction(async (moves) => {
      const pending = await this.store.inStatus(moves.tx, PaymentStatus.Pending, payoutId);
      await moves.cancel(pending.map((id) => ({ id, reason: { code: null, message: reason } })));
    });
  }

  // Plan: what this run pays, recorded and reserved (owed -> in flight) in one transaction.
  // A Lightning Address is planned only with a fresh route (the resolution job keeps routes fresh).
  // Returns the payments in the chunks they are sent in.
  private async prepare(payoutId: bigint): Promise<PaymentChunk[]> {
    return this.payments.transaction(async (moves) => {
      const due = await this.store.dueBalances(moves.tx, this.minMsat, this.addresses.fingerprint);
      const plan = planPayout(
        due,
        randomUUID,
        { maxPaymentSats: BigInt(this.config.MAX_PAYMENT_SATS) },
        this.wallet.choosesPreimage ? () => randomBytes(32).toString('hex') : undefined,
      );
      await this.store.transferRemainders(moves.tx, plan.transfers);
      const simulated = isSimulatedWallet(this.config);
      const created = await moves.create(
        payoutId,
        plan.keysends.map((k) => ({ ...k, simulated })),
      );
      await failRecipients(
        this.recipients,
        moves.tx,
        plan.unbuildable.map((u) => ({ recipientId: u.recipientId, appId: u.appId, reason: { code: u.code, message: u.message } })),
        this.policy,
      );
      for (const u of plan.unbuildable) this.logger.warn({ recipientId: String(u.recipientId), balanceId: String(u.balanceId) }, u.message);
      return sendingChunks(created, this.config.KEYSEND_BATCH_SIZE);
    });
  }

  // A boost run's rounds (BoostPlanner), until none is due, a scheduled or manual run is queued (checked before every
  // chunk: what was not sent goes back to owed), or BOOST_RUN_MAX_ROUNDS. Returns why the run stopped early, if it did.
  private async sendBoostRounds(payoutId: bigint): Promise<string | undefined> {
    // Also when this run's lock was taken over (its row ended by the new holder's recovery).
    const handOver = async () => (await this.store.streamRunActive(this.config.PAYOUT_HEARTBEAT_TIMEOUT_SECONDS)) || !(await this.store.stillRunning(payoutId));
    for (let round = 0; round < BOOST_RUN_MAX_ROUNDS; round++) {
      if (this.stopping.signal.aborted || (await handOver())) return undefined;
      const chunks = await this.boosts.prepare(payoutId);
      if (chunks.length === 0) return undefined;
      const stop = await this.sendChunks(payoutId, chunks, handOver);
      if (stop !== undefined) return stop;
    }
    return undefined;
  }

  // Dispatch and record, chunk by chunk. Returns why the run stopped early, if it did. An invoice payment gets its
  // invoice just before its chunk is sent. `handOver` true before a chunk: the rest is not sent (owed again).
  private async sendChunks(payoutId: bigint, chunks: PaymentChunk[], handOver?: () => Promise<boolean>): Promise<string | undefined> {
    for (const { method, ids } of chunks) {
      if (this.stopping.signal.aborted) {
        await this.cancelPending('never sent: the worker was stopped', payoutId);
        return undefined;
      }
      if (await handOver?.()) {
        await this.cancelPending('never sent: a scheduled run was waiting; the next boost round pays it', payoutId);
        return undefined;
      }
      const refused = method === PaymentMethod.Invoice ? await this.addresses.obtainInvoices(ids) : [];
      // Claimed durably before the request: from here on a crash leaves them `unknown`, never re-sent blindly.
      // Only payments with what they need go: a refused invoice payment, or one left without an invoice, is not sent.
      const chunk = await this.payments.transaction(async (moves) => {
        await this.refuse(moves, refused);
        const claimed = await moves.claim(ids);
        const taken = new Set(claimed.map((p) => p.id));
        await moves.cancel(ids.filter((id) => !taken.has(id)).map((id) => ({ id, reason: { code: null, message: 'never sent: it had no invoice' } })));
        return claimed;
      });
      if (chunk.length === 0) continue;
      const result = await dispatchPayments(this.wallet, chunk, {
        signal: this.abandoning.signal,
        maxRateLimitWaits: MAX_RATE_LIMIT_WAITS,
        maxWaitMs: MAX_RATE_LIMIT_WAIT_MS,
      });
      await this.record(chunk, result.outcomes);
      if (result.stop) {
        const reason = `the wallet refused the run: ${result.stop.message}`;
        this.logger.warn({ payoutId: String(payoutId), code: result.stop.code }, reason);
        await this.cancelPending(reason, payoutId);
        return reason;
      }
    }
    return undefined;
  }

  // Invoice payments that got no acceptable invoice: cancelled (nothing was sent); a refused invoice is its
  // recipient's failure, a domain that did not answer (or is behind its open breaker) is not.
  private async refuse(moves: PaymentMoves, refused: InvoiceRefusal[]): Promise<void> {
    if (refused.length === 0) return;
    const cancelled = await moves.cancel(refused.map((r) => ({ id: r.paymentId, reason: r.reason })));
    const theirs = new Map(refused.filter((r) => r.recipients).map((r) => [r.paymentId, r.reason]));
    await failRecipients(
      this.recipients,
      moves.tx,
      cancelled.flatMap((p) => (theirs.has(p.id) ? [{ recipientId: p.recipient_id, appId: p.app_id, reason: theirs.get(p.id)! }] : [])),
      this.policy,
    );
  }

  private async record(chunk: PaymentRow[], outcomes: PaymentOutcome[]): Promise<void> {
    const sent = chunk.map(sentOf);
    const decision = await this.payments.transaction(async (moves) => {
      const standings = await this.recipients.standings(moves.tx, sent);
      const decision = decideRecord(sent, outcomes, standings, this.policy, new Date());
      await applyDecision(moves, decision);
      await this.recipients.apply(moves.tx, decision.recipients);
      return decision;
    });
    for (const u of decision.unknown) this.logger.warn({ paymentId: String(u.payment.paymentId) }, `keysend outcome unknown: ${u.reason}`);
    for (const f of decision.failed) this.logger.warn({ paymentId: String(f.payment.paymentId), code: f.reason.code }, `keysend refused: ${f.reason.message}`);
    for (const r of decision.recipients) {
      if (r.kind === 'park')
        this.logger.warn(
          { recipientId: String(r.recipientId), app: r.appId, code: r.reason.code },
          `recipient parked after ${r.failures} consecutive failures: ${r.reason.message}`,
        );
    }
  }
}

const sentOf = (p: PaymentRow): SentPayment => ({
  paymentId: p.id,
  balanceId: p.balance_id,
  recipientId: p.recipient_id,
  appId: p.app_id,
  msat: satsToMsat(p.amount_sats),
});
