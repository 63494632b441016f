import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type BoostRequest } from '@splitstream/boosts';
import { APP_CONFIG, type AppConfig, isSimulatedWallet } from '@splitstream/config';
import { accrueBoost, type BoostJoin, joinStreamBalance, PayoutStatus } from '@splitstream/ledger';
import { MSAT_PER_SAT, splitListening, type ValueBlock } from '@splitstream/money';
import { Payments } from '@splitstream/payments';
import { PrismaService } from '@splitstream/persistence';
import { WALLET, type Wallet } from '@splitstream/wallet';
import { AddressResolution } from '../addresses/address-resolution.service.js';
import { BOOST_TRIGGER } from '../jobs.js';
import { LightningAddresses } from '../run/lightning-addresses.js';
import { PayoutRunner } from '../run/payout-runner.service.js';
import { type PaymentChunk, sendingChunks } from '../run/dispatch.js';
import { type DueBalance, planPayout } from '../run/plan.js';
import { failRecipients } from '../run/record.js';
import { PayoutStore } from '../store/payout-store.js';
import { RecipientStore } from '../store/recipient-store.js';

// A boost is split at its position as one millisecond of listening there: the time split playing at that moment
// (if any) takes its share, as a stream's would.
const BOOST_SECONDS = 0.001;

// Where a boost's value block comes from: the one place, so blocks given by reference (feed URL or GUIDs) can be
// resolved here later. Today a boost carries its block inline.
const valueBlockOf = (boost: BoostRequest): ValueBlock => boost.value;

// Why a boost job ends unfinished and is retried (BullMQ backoff) or left to the worker's sweep: money still owed.
export class BoostOwedError extends Error {
  override name = 'BoostOwedError';
}

interface StoredBoost {
  id: bigint;
  app_id: string;
  payload: BoostRequest;
  amount_msat: bigint;
  boost_uuid: string;
  applied_at: Date | null;
  apply_error: string | null;
}

// Pays one boost at once, in the worker, apart from the scheduled runs: splits it once into boost balances (the
// books' accrueBoost), then pays what they owe as a payout run of its own (trigger `boost`, under the payout lock,
// so recording, retries, recovery and reconciliation are a run's). Each recipient's payment carries the boost's
// bLIP-10 record; a share too small to send alone joins the recipient's stream balance (joinStreamBalance).
@Injectable()
export class BoostPayer {
  private readonly logger = new Logger(BoostPayer.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly runner: PayoutRunner,
    private readonly store: PayoutStore,
    private readonly recipients: RecipientStore,
    private readonly payments: Payments,
    private readonly addresses: LightningAddresses,
    private readonly resolution: AddressResolution,
    @Inject(WALLET) private readonly wallet: Wallet,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // Throws BoostOwedError while a share is still owed (its recipient backing off, its address not resolved, the
  // payout lock held by a run), so the job is retried.
  async pay(boostId: bigint): Promise<void> {
    const boost = await this.apply(boostId);
    if (!boost) return;
    if (await this.unresolvedAddresses(boostId)) await this.resolution.resolveDue();
    const [payout] = await this.prisma.$queryRaw<{ id: bigint }[]>`
      INSERT INTO payout (trigger, status, note) VALUES (${BOOST_TRIGGER}, ${PayoutStatus.Queued}, ${`boost ${boost.payload.id} of ${boost.app_id}`}) RETURNING id`;
    await this.runner.run(payout!.id, (payoutId) => this.prepare(boost, payoutId));
    const [left] = await this.prisma.$queryRaw<{ owed: bigint | null; status: string }[]>`
      SELECT (SELECT SUM(owed_msat) FROM balance WHERE boost_id = ${boostId})::bigint AS owed, (SELECT status FROM payout WHERE id = ${payout!.id}) AS status`;
    if ((left?.owed ?? 0n) > 0n) throw new BoostOwedError(`boost ${boostId}: ${left!.owed} msat still owed after its run (${left!.status}); retried`);
  }

  // The boost's split, once: locked, split, accrued and marked applied in one transaction (a retried job finds it
  // applied). A stored block the money core refuses sets the boost aside. Null for a boost set aside.
  private async apply(boostId: bigint): Promise<StoredBoost | null> {
    return this.prisma.$transaction(async (tx) => {
      const [boost] = await tx.$queryRaw<StoredBoost[]>`
        SELECT id, app_id, payload, amount_msat, boost_uuid::text AS boost_uuid, applied_at, apply_error FROM boost WHERE id = ${boostId} FOR UPDATE`;
      if (!boost || boost.apply_error !== null) return null;
      if (boost.applied_at !== null) return boost;
      const { payload } = boost;
      let split;
      try {
        split = splitListening({ amountMsat: boost.amount_msat, position: payload.position, seconds: BOOST_SECONDS, value: valueBlockOf(payload) });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        const reason = `cannot be split: ${error.message}`;
        await tx.$executeRaw`UPDATE boost SET apply_error = ${reason} WHERE id = ${boostId}`;
        this.logger.error({ boostId: String(boostId) }, `boost set aside, not paid: ${reason}`);
        return null;
      }
      await accrueBoost(
        tx,
        {
          id: boost.id,
          appId: boost.app_id,
          feedGuid: payload.feedGuid,
          itemGuid: payload.itemGuid,
          appName: payload.appName ?? '',
          appVersion: payload.appVersion ?? '',
          senderName: payload.senderName ?? '',
          position: Math.floor(payload.position),
        },
        split.map((a) => ({
          address: a.recipient.address,
          customKey: a.recipient.customKey ?? '',
          customValue: a.recipient.customValue ?? '',
          name: a.recipient.name ?? '',
          remoteFeedGuid: a.remoteFeedGuid ?? '',
          remoteItemGuid: a.remoteItemGuid ?? '',
          amountMsat: a.amountMsat,
        })),
      );
      return { ...boost, applied_at: new Date() };
    });
  }

  private async unresolvedAddresses(boostId: bigint): Promise<boolean> {
    const [row] = await this.prisma.$queryRaw<{ any: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM balance b JOIN recipient r ON r.id = b.recipient_id
                     LEFT JOIN lnaddress_route lr ON lr.address = r.address AND lr.expires_at > now() AND lr.fingerprint = ${this.addresses.fingerprint}
                     WHERE b.boost_id = ${boostId} AND b.owed_msat > 0 AND r.address LIKE '%@%' AND lr.address IS NULL) AS any`;
    return row!.any;
  }

  // Under the payout lock: the boost's due balances, what of each is too small to send joined to its recipient's
  // stream balance, the rest planned with the boost's record and recorded pending (money in flight).
  private prepare(boost: StoredBoost, payoutId: bigint): Promise<PaymentChunk[]> {
    return this.payments.transaction(async (moves) => {
      const due = await this.store.dueBalances(moves.tx, 1n, this.addresses.fingerprint, boost.id);
      const joins: BoostJoin[] = [];
      const sendable: DueBalance[] = [];
      for (const balance of due) {
        const minMsat = balance.route === 'lnurlp' ? (balance.minSendableMsat ?? MSAT_PER_SAT) : MSAT_PER_SAT;
        const whole = (balance.owedMsat / MSAT_PER_SAT) * MSAT_PER_SAT;
        const tooSmall = whole < minMsat;
        joins.push({ balanceId: balance.balanceId, msat: tooSmall ? balance.owedMsat : balance.owedMsat - whole });
        if (!tooSmall) sendable.push({ ...balance, ...this.described(boost), owedMsat: whole });
      }
      await joinStreamBalance(moves.tx, joins);
      const plan = planPayout(
        sendable,
        randomUUID,
        { maxPaymentSats: BigInt(this.config.MAX_PAYMENT_SATS) },
        this.wallet.choosesPreimage ? () => randomBytes(32).toString('hex') : undefined,
      );
      const simulated = isSimulatedWallet(this.config);
      const created = await moves.create(
        payoutId,
        plan.keysends.map((k) => ({ ...k, simulated })),
      );
      const policy = { baseSeconds: this.config.RETRY_BASE_SECONDS, maxSeconds: this.config.RETRY_MAX_SECONDS, maxAttempts: this.config.MAX_ATTEMPTS };
      await failRecipients(
        this.recipients,
        moves.tx,
        plan.unbuildable.map((u) => ({ recipientId: u.recipientId, appId: u.appId, reason: { code: u.code, message: u.message } })),
        policy,
      );
      return sendingChunks(created, this.config.KEYSEND_BATCH_SIZE);
    });
  }

  // What every payment of the boost tells its receiver: the boost's own titles and ids (as sent with it), its
  // message, sender and reply, the whole boost and its boost_uuid.
  private described(boost: StoredBoost): Partial<DueBalance> {
    const p = boost.payload;
    return {
      ...(p.feedTitle !== undefined && { feedTitle: p.feedTitle }),
      ...(p.itemTitle !== undefined && { itemTitle: p.itemTitle }),
      ...(p.feedUrl !== undefined && { feedUrl: p.feedUrl }),
      ...(p.feedId !== undefined && { feedId: BigInt(p.feedId) }),
      ...(p.itemId !== undefined && { itemId: BigInt(p.itemId) }),
      boost: {
        message: p.message,
        ...(p.replyAddress !== undefined && { replyAddress: p.replyAddress }),
        ...(p.replyCustomKey !== undefined && { replyCustomKey: p.replyCustomKey, replyCustomValue: p.replyCustomValue! }),
        uuid: boost.boost_uuid,
        totalMsat: boost.amount_msat,
      },
    };
  }
}
