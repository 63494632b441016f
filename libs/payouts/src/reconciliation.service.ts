import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { KeysendStatus } from '@splitstream/ledger';
import { PrismaService } from '@splitstream/persistence';
import { WALLET, type Wallet } from '@splitstream/wallet';
import { KeysendResolutions, type UnknownKeysend } from './keysend-resolutions.service.js';
import { dispatchPayments, type StoredKeysend } from './run/dispatch.js';

export interface ReconcileReport {
  checked: number;
  paid: number; // the wallet has it settled: settled with its hash, preimage and fee
  returnedToOwed: number; // the wallet reports it failed, or (Alby/LNDhub) it stayed absent too long: back to owed
  resent: number; // (NWC) the wallet has no record of it: sent again with the same preimage
  stillUnknown: number; // absent, but recently sent: it may still be in flight
}

interface ReconcilableKeysend extends UnknownKeysend, StoredKeysend {}

const BATCH = 500;

// Settles unknown keysends from the wallet's own records.
// - Settled there: paid, with the wallet's hash, preimage and fee. Failed there: back to owed.
// - Absent, where splitstream chose the preimage (NWC): once RECONCILE_RESEND_AFTER_SECONDS have passed since it
//   was sent, the SAME keysend (same preimage, so the same payment hash) is sent again: a Lightning node will not
//   pay a hash twice, so this either pays what never left or is refused; its outcome is recorded as any other.
//   An invoice payment on such a rail is paid again with the same invoice (the same hash) likewise.
// - Absent, where the wallet chose the preimage (Alby/LNDhub: found only by memo among settled payments): absence
//   proves nothing while a payment may be in flight, so only after RECONCILE_ABSENT_AFTER_SECONDS is it taken as
//   not paid and returned to owed (a later run pays it with a new keysend).
// An unknown keysend is never sent again with a new preimage.
@Injectable()
export class Reconciliation {
  private readonly logger = new Logger(Reconciliation.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly resolutions: KeysendResolutions,
    @Inject(WALLET) private readonly wallet: Wallet,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async reconcile(now = new Date()): Promise<ReconcileReport> {
    const report: ReconcileReport = { checked: 0, paid: 0, returnedToOwed: 0, resent: 0, stillUnknown: 0 };
    let afterId = 0n;
    for (;;) {
      const unknown = await this.prisma.$queryRaw<ReconcilableKeysend[]>`
        SELECT k.id, k.status, k.balance_id, k.amount_sats, k.reference, k.payment_hash, k.preimage, k.custom_records, k.sent_at, k.created_at,
               k.method, k.invoice, k.destination
        FROM keysend k
        WHERE k.status = ${KeysendStatus.Unknown} AND k.id > ${afterId} ORDER BY k.id LIMIT ${BATCH}`;
      if (unknown.length === 0) break;
      afterId = unknown.at(-1)!.id;
      const sentAt = (k: UnknownKeysend) => (k.sent_at ?? k.created_at).getTime();
      const oldest = new Date(Math.min(...unknown.map(sentAt)));
      const lookups = await this.wallet.findPayments(unknown.map((k) => ({ reference: k.reference, paymentHash: k.payment_hash })), oldest);
      for (const keysend of unknown) {
        report.checked++;
        const lookup = lookups.get(keysend.reference);
        const age = (now.getTime() - sentAt(keysend)) / 1000;
        // Looked up by its payment hash, which it keeps if sent again: the wallet can say it never had it.
        const resendable = this.wallet.choosesPreimage && keysend.payment_hash !== null && (keysend.preimage !== null || keysend.invoice !== null);
        if (lookup?.state === 'settled') {
          if (await this.settle(keysend, { paid: lookup.record })) report.paid++;
        } else if (lookup?.state === 'failed') {
          if (await this.settle(keysend, { notPaid: 'the wallet reports the payment failed' })) report.returnedToOwed++;
        } else if (resendable && age >= this.config.RECONCILE_RESEND_AFTER_SECONDS) {
          report.resent++;
          if (!(await this.resend(keysend))) report.stillUnknown++;
        } else if (!resendable && age >= this.config.RECONCILE_ABSENT_AFTER_SECONDS) {
          const reason = `not among the wallet's settled payments ${this.config.RECONCILE_ABSENT_AFTER_SECONDS} s after it was sent: not paid`;
          if (await this.settle(keysend, { notPaid: reason })) report.returnedToOwed++;
        } else {
          report.stillUnknown++;
        }
      }
      if (unknown.length < BATCH) break;
    }
    if (report.checked > 0) this.logger.log(report, 'reconciled unknown keysends');
    return report;
  }

  private async settle(keysend: UnknownKeysend, settlement: Parameters<KeysendResolutions['settleUnknown']>[1]): Promise<boolean> {
    return (await this.resolutions.settleUnknown(keysend, settlement, 'reconciliation')).kind === 'resolved';
  }

  // The same payment again, same preimage or invoice. True when that settled it (paid, or certainly not paid).
  private async resend(keysend: ReconcilableKeysend): Promise<boolean> {
    const {
      outcomes: [outcome],
    } = await dispatchPayments(this.wallet, [keysend], { maxRateLimitWaits: 0, maxWaitMs: 0 });
    if (outcome?.status === 'paid') {
      const { feeSats, paymentHash, preimage } = outcome;
      return this.settle(keysend, { paid: { amountSats: outcome.amountSats, feeSats, paymentHash, preimage } });
    }
    if (outcome?.status === 'not_paid' && outcome.scope === 'item') return this.settle(keysend, { notPaid: `sent again with the same preimage: ${outcome.message}` });
    return false;
  }
}
