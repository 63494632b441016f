import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import type { ListeningEvent } from '@splitstream/ingestion';
import { buildCustomRecords } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { Prisma, PrismaService } from '@splitstream/persistence';
import { type PaymentOutcome, WALLET, type Wallet } from '@splitstream/wallet';
import { cancelPending, KeysendStatus, moveToPaid, returnToOwed } from './keysend-ledger.js';
import { PayoutLock } from './payout-lock.js';

type Tx = Prisma.TransactionClient;

const MSAT_PER_SAT = 1000n;
const TRANSACTION_TIMEOUT_MS = 120_000;

export const PayoutStatus = {
  Queued: 'queued',
  Running: 'running',
  Completed: 'completed',
  Skipped: 'skipped',
  Interrupted: 'interrupted',
} as const;

// Exponential backoff for a recipient after `failures` consecutive failed keysends.
export function retryDelaySeconds(failures: number, baseSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, failures - 1));
}

interface OwedBalance {
  id: bigint;
  recipient_id: bigint;
  owed_msat: bigint;
  feed_guid: string;
  item_guid: string;
  remote_feed_guid: string;
  remote_item_guid: string;
  address: string;
  custom_key: string;
  custom_value: string;
  name: string;
  consecutive_failures: number;
}

// A payout run: records every keysend as pending (owed -> in flight) before any request, sends them in chunks
// through the wallet, and records each outcome. A crash at any point loses nothing and pays nothing twice:
// `sending` keysends become `unknown` (never re-sent automatically) and `pending` ones go back to owed.
@Injectable()
export class PayoutRunner {
  private readonly logger = new Logger(PayoutRunner.name);

  constructor(
    private readonly prisma: PrismaService,
    @Inject(WALLET) private readonly wallet: Wallet,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async run(payoutId: bigint): Promise<void> {
    const lock = await PayoutLock.tryAcquire(this.config.DATABASE_URL);
    if (!lock) {
      await this.prisma.payout.update({
        where: { id: payoutId },
        data: { status: PayoutStatus.Skipped, note: 'another payout run was in progress', finishedAt: new Date() },
      });
      this.metrics.payoutRuns.inc({ status: PayoutStatus.Skipped });
      return;
    }
    try {
      await this.recover(payoutId);
      await this.prisma.payout.update({ where: { id: payoutId }, data: { status: PayoutStatus.Running, startedAt: new Date() } });
      const prepared = await this.prepare(payoutId);
      await this.send(payoutId);
      await this.prisma.payout.update({
        where: { id: payoutId },
        data: { status: PayoutStatus.Completed, finishedAt: new Date(), note: prepared ? null : 'nothing owed was due' },
      });
      this.metrics.payoutRuns.inc({ status: PayoutStatus.Completed });
    } finally {
      await lock.release();
    }
  }

  // At worker start (and before every run): settle what an interrupted run left behind.
  async recoverInterrupted(): Promise<void> {
    const lock = await PayoutLock.tryAcquire(this.config.DATABASE_URL);
    if (!lock) return; // a live run holds the lock; it recovers before it starts
    try {
      await this.recover(undefined);
    } finally {
      await lock.release();
    }
  }

  private async recover(currentPayoutId: bigint | undefined): Promise<void> {
    await this.prisma.$transaction(
      async (tx) => {
        const inFlight = await tx.keysend.updateMany({
          where: { status: KeysendStatus.Sending },
          data: {
            status: KeysendStatus.Unknown,
            errorMessage: 'the worker stopped while this request may have been in flight; an operator must resolve it',
            finishedAt: new Date(),
          },
        });
        const cancelled = await cancelPending(tx, 'never sent: the payout run was interrupted');
        await tx.payout.updateMany({
          where: { status: PayoutStatus.Running, ...(currentPayoutId !== undefined && { id: { not: currentPayoutId } }) },
          data: { status: PayoutStatus.Interrupted, finishedAt: new Date() },
        });
        if (inFlight.count || cancelled) {
          this.logger.warn(`recovered an interrupted run: ${inFlight.count} keysends unknown, ${cancelled} returned to owed`);
        }
      },
      { timeout: TRANSACTION_TIMEOUT_MS },
    );
  }

  // Decides what this run pays and records it, owed -> in flight, in one transaction. Returns the keysend count.
  private async prepare(payoutId: bigint): Promise<number> {
    const minMsat = BigInt(this.config.MIN_PAYOUT_SATS) * MSAT_PER_SAT;
    return this.prisma.$transaction(
      async (tx) => {
        const balances = await tx.$queryRaw<OwedBalance[]>`
          SELECT b.id, b.recipient_id, b.owed_msat, b.feed_guid, b.item_guid, b.remote_feed_guid, b.remote_item_guid,
                 r.address, r.custom_key, r.custom_value, r.name, r.consecutive_failures
          FROM balance b JOIN recipient r ON r.id = b.recipient_id
          WHERE b.owed_msat > 0 AND NOT r.parked AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now())
            AND r.id IN (SELECT recipient_id FROM balance GROUP BY recipient_id HAVING SUM(owed_msat) >= ${minMsat})
          ORDER BY b.recipient_id, b.id
          FOR UPDATE OF b`;
        const byRecipient = new Map<bigint, OwedBalance[]>();
        for (const b of balances) byRecipient.set(b.recipient_id, [...(byRecipient.get(b.recipient_id) ?? []), b]);

        const boostUuids = new Map<string, string>();
        let created = 0;
        for (const group of byRecipient.values()) {
          await this.consolidateRemainders(tx, group);
          for (const balance of group) {
            const sats = balance.owed_msat / MSAT_PER_SAT;
            if (sats === 0n) continue;
            const episode = JSON.stringify([balance.feed_guid, balance.item_guid]);
            if (!boostUuids.has(episode)) boostUuids.set(episode, randomUUID());
            await this.createKeysend(tx, payoutId, balance, sats, boostUuids.get(episode)!);
            created++;
          }
        }
        return created;
      },
      { timeout: TRANSACTION_TIMEOUT_MS },
    );
  }

  // Sub-sat remainders would strand on each episode (0.9 sat here, 0.9 there): when a recipient's remainders
  // add up to a sat or more, they move to its largest balance and are paid with it.
  private async consolidateRemainders(tx: Tx, group: OwedBalance[]): Promise<void> {
    const withRemainder = group.filter((b) => b.owed_msat % MSAT_PER_SAT > 0n);
    const total = withRemainder.reduce((sum, b) => sum + (b.owed_msat % MSAT_PER_SAT), 0n);
    if (total < MSAT_PER_SAT || withRemainder.length < 2) return;
    const carrier = group.reduce((best, b) => (b.owed_msat > best.owed_msat ? b : best));
    for (const balance of withRemainder) {
      if (balance === carrier) continue;
      const moved = balance.owed_msat % MSAT_PER_SAT;
      await tx.$executeRaw`UPDATE balance SET owed_msat = owed_msat - ${moved}, accrued_msat = accrued_msat - ${moved} WHERE id = ${balance.id}`;
      await tx.$executeRaw`UPDATE balance SET owed_msat = owed_msat + ${moved}, accrued_msat = accrued_msat + ${moved} WHERE id = ${carrier.id}`;
      balance.owed_msat -= moved;
      carrier.owed_msat += moved;
    }
  }

  private async createKeysend(tx: Tx, payoutId: bigint, balance: OwedBalance, sats: bigint, boostUuid: string): Promise<void> {
    const msat = sats * MSAT_PER_SAT;
    // The listening this keysend pays for: the balance's events not yet taken into flight by an earlier keysend.
    const [covered] = await tx.$queryRaw<{ total: bigint | null; latest: bigint | null }[]>`
      SELECT SUM(e.amount_msat)::bigint AS total, MAX(e.id) AS latest FROM listening_event e
      WHERE e.id IN (SELECT event_id FROM allocation WHERE balance_id = ${balance.id} AND keysend_id IS NULL)`;
    const [latestAny] = await tx.$queryRaw<{ latest: bigint | null }[]>`
      SELECT MAX(event_id) AS latest FROM allocation WHERE balance_id = ${balance.id}`;
    const eventId = covered?.latest ?? latestAny?.latest;
    const event = eventId ? await tx.listeningEvent.findUnique({ where: { id: eventId }, select: { payload: true } }) : null;
    const payload = (event?.payload ?? {}) as Partial<ListeningEvent>;
    const reference = randomUUID();
    const customRecords = buildCustomRecords({
      action: 'stream',
      valueMsat: msat,
      valueMsatTotal: covered?.total ?? msat,
      podcast: { guid: balance.feed_guid, title: payload.feedTitle, feedId: payload.feedId, url: payload.feedUrl },
      episode: { guid: balance.item_guid, title: payload.itemTitle, itemId: payload.itemId },
      ts: payload.position ?? 0,
      app: { name: payload.appName, version: payload.appVersion },
      senderName: payload.senderName,
      recipient: {
        name: balance.name || undefined,
        customKey: balance.custom_key || undefined,
        customValue: balance.custom_value || undefined,
      },
      boostUuid,
      uuid: reference,
      remoteFeedGuid: balance.remote_feed_guid || undefined,
      remoteItemGuid: balance.remote_item_guid || undefined,
    });
    const keysend = await tx.keysend.create({
      data: {
        payoutId,
        recipientId: balance.recipient_id,
        balanceId: balance.id,
        reference,
        amountSats: Number(sats),
        attempt: balance.consecutive_failures + 1,
        status: KeysendStatus.Pending,
        customRecords,
      },
    });
    await tx.$executeRaw`UPDATE allocation SET keysend_id = ${keysend.id} WHERE balance_id = ${balance.id} AND keysend_id IS NULL`;
    await tx.$executeRaw`UPDATE balance SET owed_msat = owed_msat - ${msat}, in_flight_msat = in_flight_msat + ${msat}, updated_at = now() WHERE id = ${balance.id}`;
  }

  private async send(payoutId: bigint): Promise<void> {
    for (;;) {
      const chunk = await this.prisma.keysend.findMany({
        where: { payoutId, status: KeysendStatus.Pending },
        orderBy: { id: 'asc' },
        take: this.config.KEYSEND_BATCH_SIZE,
        include: { recipient: true },
      });
      if (chunk.length === 0) return;
      // Durably marked before the request: from here on, a crash leaves them `unknown`, never re-sent blindly.
      await this.prisma.keysend.updateMany({
        where: { id: { in: chunk.map((k) => k.id) }, status: KeysendStatus.Pending },
        data: { status: KeysendStatus.Sending, sentAt: new Date() },
      });
      const outcomes = await this.wallet.payKeysends(
        chunk.map((k) => ({
          amountSats: k.amountSats,
          destination: k.recipient.address,
          memo: `splitstream ${k.reference}`,
          customRecords: k.customRecords as Record<string, string>,
        })),
      );
      await this.record(chunk, outcomes);
      for (const outcome of outcomes) {
        this.metrics.keysends.inc({ outcome: outcome.status });
        if (outcome.status === 'paid') {
          this.metrics.paidSats.inc(outcome.amountSats);
          this.metrics.feeSats.inc(outcome.feeSats);
        }
      }
      const refused = outcomes.find((o) => o.status === 'not_paid' && o.scope === 'request');
      if (refused?.status === 'not_paid') {
        await this.prisma.$transaction((tx) => cancelPending(tx, `not sent: the wallet refused the run's request (${refused.message})`, payoutId));
        return;
      }
    }
  }

  private async record(chunk: { id: bigint; recipientId: bigint; amountSats: number; balanceId: bigint }[], outcomes: PaymentOutcome[]) {
    await this.prisma.$transaction(
      async (tx) => {
        const failedRecipients = new Map<bigint, { code: number | null; message: string }>();
        const paidRecipients = new Set<bigint>();
        for (const [i, keysend] of chunk.entries()) {
          const outcome = outcomes[i] ?? { status: 'unknown' as const, reason: 'no outcome for this keysend' };
          const msat = BigInt(keysend.amountSats) * MSAT_PER_SAT;
          switch (outcome.status) {
            case 'paid':
              await tx.keysend.update({
                where: { id: keysend.id },
                data: {
                  status: KeysendStatus.Succeeded,
                  feeSats: outcome.feeSats,
                  paymentHash: outcome.paymentHash,
                  preimage: outcome.preimage,
                  finishedAt: new Date(),
                },
              });
              await moveToPaid(tx, keysend.balanceId, msat);
              paidRecipients.add(keysend.recipientId);
              break;
            case 'not_paid':
              await returnToOwed(tx, [keysend.id], KeysendStatus.Failed, outcome.code, outcome.message);
              if (outcome.scope === 'item') failedRecipients.set(keysend.recipientId, { code: outcome.code, message: outcome.message });
              break;
            case 'unknown':
              await tx.keysend.update({
                where: { id: keysend.id },
                data: { status: KeysendStatus.Unknown, errorMessage: outcome.reason, finishedAt: new Date() },
              });
              break;
          }
        }
        for (const recipientId of paidRecipients) {
          if (failedRecipients.has(recipientId)) continue;
          await tx.recipient.update({
            where: { id: recipientId },
            data: { consecutiveFailures: 0, nextAttemptAt: null, lastErrorCode: null, lastErrorMessage: null },
          });
        }
        for (const [recipientId, error] of failedRecipients) await this.recordFailure(tx, recipientId, error);
      },
      { timeout: TRANSACTION_TIMEOUT_MS },
    );
  }

  // One more consecutive failure: back off exponentially, and park after MAX_ATTEMPTS.
  private async recordFailure(tx: Tx, recipientId: bigint, error: { code: number | null; message: string }): Promise<void> {
    const { RETRY_BASE_SECONDS: base, RETRY_MAX_SECONDS: max, MAX_ATTEMPTS: maxAttempts } = this.config;
    const recipient = await tx.recipient.findUniqueOrThrow({ where: { id: recipientId } });
    const failures = recipient.consecutiveFailures + 1;
    const parked = failures >= maxAttempts;
    await tx.recipient.update({
      where: { id: recipientId },
      data: {
        consecutiveFailures: failures,
        nextAttemptAt: new Date(Date.now() + retryDelaySeconds(failures, base, max) * 1000),
        lastErrorCode: error.code,
        lastErrorMessage: error.message,
        ...(parked && !recipient.parked && { parked: true, parkedAt: new Date() }),
      },
    });
    if (parked && !recipient.parked) this.logger.warn(`recipient ${recipientId} parked after ${failures} consecutive failures`);
  }
}
