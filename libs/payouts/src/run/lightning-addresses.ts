import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { WaitingCode } from '@splitstream/errors';
import { type CallVerdict, inDomainLanes, LNADDRESS_CLIENT, LnaddressClient, LnaddressError, LnaddressFailure } from '@splitstream/lnaddress';
import { satsToMsat } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { Payments, type Reason } from '@splitstream/payments';
import { JobQueue } from '@splitstream/queue';
import { AddressStore, domainOf } from '../addresses/address-store.js';
import { DomainBreakers } from '../addresses/domain-breakers.js';
import { RESOLVE_ADDRESSES } from '../jobs.js';
import { type InvoiceWanted, PayoutStore } from '../store/payout-store.js';

export interface InvoiceRefusal {
  paymentId: bigint;
  reason: Reason;
  // The recipient's failure (its invoice was refused); otherwise the domain's (no answer, or its breaker open):
  // the money is owed again and the recipient is not failed.
  recipients: boolean;
}

// What an invoice payment that was not asked for its invoice says: its domain's breaker is open.
export const DOMAIN_OPEN_REASON: Reason = {
  code: WaitingCode.DomainOpen,
  message: "never sent: the address's domain failed repeatedly and is not called for now",
};
// Or its address has no route under this process's config any more (a process configured apart resolved it
// since): the address did not refuse anything, the payment waits for this config's resolution.
export const UNRESOLVED_REASON: Reason = {
  code: WaitingCode.Unresolved,
  message: 'never sent: the address is being resolved again under the wallet rail and host map now configured',
};

// The payout run's Lightning-address steps, in the worker: a run never resolves an address (AddressResolution,
// its own job, does) and never waits on a domain for it. Invoices are fetched just before their payments are sent
// (an invoice expires), every domain at once, each at most LNADDRESS_DOMAIN_CONCURRENCY calls at a time and only
// while its circuit breaker is closed; each is stored with its payment hash while the payment is still pending.
@Injectable()
export class LightningAddresses {
  private readonly logger = new Logger(LightningAddresses.name);

  constructor(
    private readonly store: PayoutStore,
    private readonly addresses: AddressStore,
    private readonly breakers: DomainBreakers,
    private readonly payments: Payments,
    private readonly jobs: JobQueue,
    @Inject(LNADDRESS_CLIENT) private readonly client: LnaddressClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  // What this process plans with: routes resolved under its rail and host map (see AddressStore).
  get fingerprint(): string {
    return this.addresses.fingerprint;
  }

  // Addresses owed money that were never resolved nor tried (under this config): a resolution job now rather than
  // at the next tick (deduplicated: one queued at a time). Never awaited by the payments: the run pays what has a
  // route.
  async requestResolution(): Promise<void> {
    try {
      if (await this.addresses.anyUntried()) await this.jobs.enqueue(RESOLVE_ADDRESSES, {});
    } catch (error) {
      this.logger.warn(`could not ask for a resolution of new Lightning addresses: ${(error as Error).message}`);
    }
  }

  // Invoices for the invoice payments among `chunk` (the payments about to be sent, and only those). Returns those
  // that got none (the callback failed, its invoice is not what was asked for, or its domain's breaker is open):
  // nothing was paid for them.
  async obtainInvoices(chunk: bigint[]): Promise<InvoiceRefusal[]> {
    const wanting = await this.store.invoicesWanted(chunk, this.fingerprint);
    const gates = await this.breakers.gates(wanting.map((k) => domainOf(k.address)));
    const refusals: InvoiceRefusal[] = [];
    await inDomainLanes(
      wanting,
      (k) => domainOf(k.address),
      this.config.LNADDRESS_DOMAIN_CONCURRENCY,
      async (k, domain) => {
        if (k.route === null) {
          this.metrics.lnaddress.inc({ step: 'invoice', outcome: 'unresolved' });
          refusals.push({ paymentId: k.id, reason: UNRESOLVED_REASON, recipients: false });
          return;
        }
        if (await gates.get(domain)!.through(() => this.obtainInvoice(k, refusals))) return;
        this.metrics.lnaddress.inc({ step: 'invoice', outcome: 'domain_open' });
        refusals.push({ paymentId: k.id, reason: DOMAIN_OPEN_REASON, recipients: false });
      },
    );
    return refusals;
  }

  // The domain answered unless its callback could not be reached (the breaker counts only those).
  private async obtainInvoice(k: InvoiceWanted, refusals: InvoiceRefusal[]): Promise<CallVerdict> {
    try {
      if (!k.callback || !k.metadata_hash) throw new LnaddressError(LnaddressFailure.InvoiceRefused, 'the address no longer offers LNURL-pay');
      const invoice = await this.client.invoice({
        callback: k.callback,
        msat: satsToMsat(k.amount_sats),
        comment: k.comment ?? '',
        metadataHash: k.metadata_hash,
      });
      await this.payments.transaction((moves) => moves.attachInvoice(k.id, invoice));
      this.metrics.lnaddress.inc({ step: 'invoice', outcome: 'obtained' });
      return { answered: true };
    } catch (error) {
      if (!(error instanceof LnaddressError)) throw error;
      this.metrics.lnaddress.inc({ step: 'invoice', outcome: 'refused' });
      this.logger.warn({ paymentId: String(k.id), code: error.code }, `no invoice: ${error.detail}`);
      const failure = { code: error.code, message: error.message, detail: error.detail };
      const answered = error.code !== LnaddressFailure.Unreachable;
      refusals.push({ paymentId: k.id, reason: failure, recipients: answered });
      return answered ? { answered } : { answered, failure };
    }
  }
}
