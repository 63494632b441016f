import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { BoostRequest } from '@splitstream/boosts';
import { APP_CONFIG, type AppConfig, isSimulatedWallet } from '@splitstream/config';
import { type BoostJoin, joinStreamBalance } from '@splitstream/ledger';
import { MSAT_PER_SAT } from '@splitstream/money';
import { Payments } from '@splitstream/payments';
import { WALLET, type Wallet } from '@splitstream/wallet';
import { LightningAddresses } from '../run/lightning-addresses.js';
import { type PaymentChunk, sendingChunks } from '../run/dispatch.js';
import { type DueBalance, planPayout } from '../run/plan.js';
import { failRecipients } from '../run/record.js';
import { PayoutStore } from '../store/payout-store.js';
import { RecipientStore } from '../store/recipient-store.js';

// What one round takes of each app: its oldest boosts, whole, up to about this many shares, and at most this many
// payments (a share split in many pieces by a small maxSendable or MAX_PAYMENT_SATS sends the rest in later rounds).
// Every app with a due boost takes part in every round, so a round is short and fair whatever one app sends.
export const BOOST_SHARES_PER_APP = 25;
export const BOOST_PAYMENTS_PER_APP = 25;

interface BoostOfBalance {
  balance_id: bigint;
  boost_id: bigint;
  payload: BoostRequest;
  amount_msat: bigint;
  boost_uuid: string;
}

// Plans one round of boost payments for the run holding the payout lock (PayoutRunner): the next boosts, apps in
// turn (PayoutStore.nextBoosts), their shares owed to payable recipients; what of a share is too small to send alone
// joins the recipient's stream balance (joinStreamBalance); the rest is planned with the boost's bLIP-10 record and
// recorded pending in the run (money in flight), exactly as a scheduled run's payments.
@Injectable()
export class BoostPlanner {
  constructor(
    private readonly store: PayoutStore,
    private readonly recipients: RecipientStore,
    private readonly payments: Payments,
    private readonly addresses: LightningAddresses,
    @Inject(WALLET) private readonly wallet: Wallet,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  prepare(payoutId: bigint): Promise<PaymentChunk[]> {
    return this.payments.transaction(async (moves) => {
      const next = await this.store.nextBoosts(moves.tx, this.addresses.fingerprint, BOOST_SHARES_PER_APP);
      if (next.length === 0) return [];
      const boostIds = next.map((n) => n.boostId);
      const due = await this.store.dueBalances(moves.tx, 1n, this.addresses.fingerprint, boostIds);
      const boosts = await moves.tx.$queryRaw<BoostOfBalance[]>`
        SELECT b.id AS balance_id, bo.id AS boost_id, bo.payload, bo.amount_msat, bo.boost_uuid::text AS boost_uuid
        FROM balance b JOIN boost bo ON bo.id = b.boost_id WHERE b.id = ANY(${due.map((d) => String(d.balanceId))}::bigint[])`;
      const boostOf = new Map(boosts.map((b) => [b.balance_id, b]));
      const appOf = new Map(due.map((d) => [d.balanceId, d.appId]));
      const joins: BoostJoin[] = [];
      const sendable: DueBalance[] = [];
      for (const balance of due) {
        const minMsat = balance.route === 'lnurlp' ? (balance.minSendableMsat ?? MSAT_PER_SAT) : MSAT_PER_SAT;
        const whole = (balance.owedMsat / MSAT_PER_SAT) * MSAT_PER_SAT;
        const tooSmall = whole < minMsat;
        joins.push({ balanceId: balance.balanceId, msat: tooSmall ? balance.owedMsat : balance.owedMsat - whole });
        if (!tooSmall) sendable.push({ ...balance, ...described(boostOf.get(balance.balanceId)!), owedMsat: whole });
      }
      await joinStreamBalance(moves.tx, joins);
      const plan = planPayout(
        sendable,
        randomUUID,
        { maxPaymentSats: BigInt(this.config.MAX_PAYMENT_SATS) },
        this.wallet.choosesPreimage ? () => randomBytes(32).toString('hex') : undefined,
      );
      // Each app's payments in its boosts' order (the plan groups by recipient), at most BOOST_PAYMENTS_PER_APP.
      const turn = new Map(boostIds.map((id, i) => [id, i]));
      const turnOf = (balanceId: bigint) => turn.get(boostOf.get(balanceId)!.boost_id)!;
      const byApp = new Map<string, typeof plan.keysends>();
      for (const k of [...plan.keysends].sort((a, b) => turnOf(a.balanceId) - turnOf(b.balanceId))) {
        const app = appOf.get(k.balanceId)!;
        const mine = byApp.get(app) ?? [];
        if (mine.length < BOOST_PAYMENTS_PER_APP) byApp.set(app, [...mine, k]);
      }
      const simulated = isSimulatedWallet(this.config);
      const created = await moves.create(
        payoutId,
        [...byApp.values()].flat().map((k) => ({ ...k, simulated })),
      );
      const policy = { baseSeconds: this.config.RETRY_BASE_SECONDS, maxSeconds: this.config.RETRY_MAX_SECONDS, maxAttempts: this.config.MAX_ATTEMPTS };
      await failRecipients(
        this.recipients,
        moves.tx,
        plan.unbuildable.map((u) => ({ recipientId: u.recipientId, appId: u.appId, reason: { code: u.code, message: u.message } })),
        policy,
      );
      // Chunks of one app each, apps taking turns: one app's payment (a hanging one) never shares a request with
      // another app's.
      const chunksOf = [...byApp.keys()].map((app) =>
        sendingChunks(
          created.filter((p) => p.app_id === app),
          this.config.KEYSEND_BATCH_SIZE,
        ),
      );
      const rounds = Math.max(0, ...chunksOf.map((c) => c.length));
      return Array.from({ length: rounds }, (_, i) => chunksOf.flatMap((c) => c[i] ?? [])).flat();
    });
  }
}

// What every payment of a boost tells its receiver: the boost's own titles and ids (as sent with it), its message,
// sender and reply, the whole boost and its boost_uuid.
function described(boost: BoostOfBalance): Partial<DueBalance> {
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
