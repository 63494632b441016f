import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { LNADDRESS_CLIENT, LnaddressClient, LnaddressError, LnaddressFailure, type AddressRoute } from '@splitstream/lnaddress';
import { satsToMsat } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { Payments, type Reason } from '@splitstream/payments';
import { PrismaService } from '@splitstream/persistence';
import { dueRecipient, PayoutStore } from '../store/payout-store.js';
import { RecipientStore } from '../store/recipient-store.js';
import { failRecipients, type RecipientFailure, type RetryPolicy } from './record.js';

// Calls to addresses' domains at once (each has its own timeout).
const CONCURRENCY = 8;

// A route's columns that neither kind leaves set (each kind sets its own over these).
const NO_ROUTE = { pubkey: null, customRecords: {}, callback: null, minSendableMsat: null, maxSendableMsat: null, commentAllowed: 0, metadataHash: null };

export interface InvoiceRefusal {
  paymentId: bigint;
  reason: Reason;
}

async function eachLimited<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

// The payout run's Lightning-address steps, in the worker and never on a request path: resolving the due
// addresses whose cached route is missing or expired (a failure backs the recipient off, then parks it, like
// any failed payment), and fetching and checking an invoice for each invoice payment just before it is sent
// (stored with its payment hash while the payment is still pending).
@Injectable()
export class LightningAddresses {
  private readonly logger = new Logger(LightningAddresses.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly store: PayoutStore,
    private readonly recipients: RecipientStore,
    private readonly payments: Payments,
    @Inject(LNADDRESS_CLIENT) private readonly client: LnaddressClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async resolveDue(minMsat: bigint, policy: RetryPolicy): Promise<void> {
    // An address is resolved once however many apps it is due from; a failure counts for each of them.
    const rows = await this.prisma.$queryRaw<{ id: bigint; address: string; apps: string[] }[]>`
      SELECT r.id, r.address, array_agg(ar.app_id ORDER BY ar.app_id) AS apps FROM recipient r JOIN app_recipient ar ON ar.recipient_id = r.id
      WHERE r.address LIKE '%@%' AND ${dueRecipient(minMsat)}
        AND NOT EXISTS (SELECT 1 FROM lnaddress_route lr WHERE lr.address = r.address AND lr.expires_at > now())
      GROUP BY r.id ORDER BY r.id`;
    const failures: RecipientFailure[] = [];
    await eachLimited(rows, async ({ id, address, apps }) => {
      try {
        const route = await this.client.resolve(address);
        await this.saveRoute(address, route);
        this.metrics.lnaddress.inc({ step: 'resolve', outcome: route.kind });
      } catch (error) {
        if (!(error instanceof LnaddressError)) throw error;
        this.metrics.lnaddress.inc({ step: 'resolve', outcome: 'failed' });
        const reason = { code: error.code, message: error.message, detail: error.detail };
        failures.push(...apps.map((appId) => ({ recipientId: id, appId, reason })));
      }
    });
    if (failures.length === 0) return;
    await this.prisma.$transaction((tx) => failRecipients(this.recipients, tx, failures, policy));
    // The recipient's message (apps read it) is the coded reason in words; the detail is for the log and admins.
    for (const f of failures) {
      this.logger.warn({ recipientId: String(f.recipientId), app: f.appId, code: f.reason.code }, `lightning address not resolved: ${f.reason.detail}`);
    }
  }

  // A route's fields are the row's columns; the other kind's columns are cleared.
  private async saveRoute(address: string, route: AddressRoute): Promise<void> {
    const fields = {
      ...NO_ROUTE,
      ...route,
      resolvedAt: new Date(),
      expiresAt: new Date(Date.now() + this.config.LNADDRESS_CACHE_SECONDS * 1000),
    };
    await this.prisma.addressRoute.upsert({ where: { address }, create: { address, ...fields }, update: fields });
  }

  // Invoices for the invoice payments among `chunk` (the payments about to be sent, and only those). Returns those
  // that got none (the callback failed, or its invoice is not what was asked for): nothing was paid for them.
  async obtainInvoices(chunk: bigint[]): Promise<InvoiceRefusal[]> {
    const wanting = await this.store.invoicesWanted(chunk);
    const refusals: InvoiceRefusal[] = [];
    await eachLimited(wanting, async (k) => {
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
      } catch (error) {
        if (!(error instanceof LnaddressError)) throw error;
        this.metrics.lnaddress.inc({ step: 'invoice', outcome: 'refused' });
        this.logger.warn({ paymentId: String(k.id), code: error.code }, `no invoice: ${error.detail}`);
        refusals.push({ paymentId: k.id, reason: { code: error.code, message: error.message, detail: error.detail } });
      }
    });
    return refusals;
  }
}
