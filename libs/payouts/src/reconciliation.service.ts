import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { KeysendStatus } from '@splitstream/ledger';
import { PrismaService } from '@splitstream/persistence';
import { WALLET, type Wallet } from '@splitstream/wallet';
import { KeysendResolutions, type UnknownKeysend } from './keysend-resolutions.service.js';

export interface ReconcileReport {
  checked: number;
  paid: number; // found among the wallet's settled payments: settled with its hash, preimage and fee
  returnedToOwed: number; // absent for longer than RECONCILE_ABSENT_AFTER_SECONDS: back to owed
  stillUnknown: number; // absent, but recently sent: it may still be in flight
}

const BATCH = 500;

// Settles unknown keysends from the wallet's own records (Alby/LNDhub: GET /invoices/outgoing, matched by the
// memo reference). The list holds settled payments only, and a payment may stay in flight for a while, so
// absence proves nothing at first: only a keysend absent for longer than RECONCILE_ABSENT_AFTER_SECONDS since it
// was sent is taken as not paid and its money returned to owed (a later run pays it with a new keysend).
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
    const report: ReconcileReport = { checked: 0, paid: 0, returnedToOwed: 0, stillUnknown: 0 };
    let afterId = 0n;
    for (;;) {
      const unknown = await this.prisma.$queryRaw<UnknownKeysend[]>`
        SELECT id, status, balance_id, amount_sats, reference, payment_hash, sent_at, created_at FROM keysend
        WHERE status = ${KeysendStatus.Unknown} AND id > ${afterId} ORDER BY id LIMIT ${BATCH}`;
      if (unknown.length === 0) break;
      afterId = unknown.at(-1)!.id;
      const sentAt = (k: UnknownKeysend) => k.sent_at ?? k.created_at;
      const oldest = new Date(Math.min(...unknown.map((k) => sentAt(k).getTime())));
      const records = await this.wallet.findPayments(unknown.map((k) => k.reference), oldest);
      const absentBefore = now.getTime() - this.config.RECONCILE_ABSENT_AFTER_SECONDS * 1000;
      for (const keysend of unknown) {
        report.checked++;
        const record = records.get(keysend.reference);
        if (record) {
          if ((await this.resolutions.settleUnknown(keysend, { paid: record }, 'reconciliation')).kind === 'resolved') report.paid++;
        } else if (sentAt(keysend).getTime() < absentBefore) {
          const reason = `not among the wallet's settled payments ${this.config.RECONCILE_ABSENT_AFTER_SECONDS} s after it was sent: not paid`;
          if ((await this.resolutions.settleUnknown(keysend, { notPaid: reason }, 'reconciliation')).kind === 'resolved') report.returnedToOwed++;
        } else {
          report.stillUnknown++;
        }
      }
      if (unknown.length < BATCH) break;
    }
    if (report.checked > 0) this.logger.log(report, 'reconciled unknown keysends');
    return report;
  }
}
