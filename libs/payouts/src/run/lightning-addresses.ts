import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { KeysendStatus, PaymentMethod } from '@splitstream/ledger';
import { LNADDRESS_CLIENT, LnaddressClient, LnaddressError, LnaddressFailure, type Resolution } from '@splitstream/lnaddress';
import { blip10Summary, satsToMsat, TLV_PODCAST_METADATA } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { Prisma, PrismaService } from '@splitstream/persistence';
import { applyRecipientUpdates, failRecipient, type Reason, type RetryPolicy, standingsOf } from './record.js';

// Calls to addresses' domains at once (each has its own timeout).
const CONCURRENCY = 8;

// A recipient whose money is due: not parked, not backing off, owed at least the minimum payout in all.
export const dueRecipient = (minMsat: bigint) => Prisma.sql`
  NOT r.parked AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now())
  AND r.id IN (SELECT recipient_id FROM balance GROUP BY recipient_id HAVING SUM(owed_msat) >= ${minMsat})`;

// A resolution's columns that neither kind leaves set (each kind sets its own over these).
const NO_RESOLUTION = { pubkey: null, customRecords: {}, callback: null, minSendableMsat: null, maxSendableMsat: null, commentAllowed: 0, metadataHash: null };

export interface InvoiceRefusal {
  keysendId: bigint;
  reason: Reason;
}

async function eachLimited<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  }));
}

// The payout run's Lightning-address steps, in the worker and never on a request path: resolving the due
// addresses whose cached resolution is missing or expired (a failure backs the recipient off, then parks it, like
// any failed payment), and fetching and checking an invoice for each invoice payment just before it is sent
// (stored with its payment hash while the payment is still pending).
@Injectable()
export class LightningAddresses {
  private readonly logger = new Logger(LightningAddresses.name);

  constructor(
    private readonly prisma: PrismaService,
    @Inject(LNADDRESS_CLIENT) private readonly client: LnaddressClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async resolveDue(minMsat: bigint, policy: RetryPolicy): Promise<void> {
    const due = await this.prisma.$queryRaw<{ id: bigint; address: string }[]>`
      SELECT r.id, r.address FROM recipient r
      WHERE r.address LIKE '%@%' AND ${dueRecipient(minMsat)}
        AND NOT EXISTS (SELECT 1 FROM lnaddress_resolution lr WHERE lr.address = r.address AND lr.expires_at > now())
      ORDER BY r.id`;
    const failures: { id: bigint; reason: Reason }[] = [];
    await eachLimited(due, async ({ id, address }) => {
      try {
        const resolution = await this.client.resolve(address);
        await this.store(address, resolution);
        this.metrics.lnaddress.inc({ step: 'resolve', outcome: resolution.kind });
      } catch (error) {
        if (!(error instanceof LnaddressError)) throw error;
        this.metrics.lnaddress.inc({ step: 'resolve', outcome: 'failed' });
        failures.push({ id, reason: { code: error.code, message: error.message } });
      }
    });
    if (failures.length === 0) return;
    await this.prisma.$transaction(async (tx) => {
      const standings = await standingsOf(tx, failures.map((f) => f.id));
      await applyRecipientUpdates(tx, failures.map((f) => failRecipient(standings.get(f.id)!, f.reason, policy, new Date())));
    });
    for (const f of failures) this.logger.warn({ recipientId: String(f.id), code: f.reason.code }, `lightning address not resolved: ${f.reason.message}`);
  }

  // A resolution's fields are the row's columns; the other kind's columns are cleared.
  private async store(address: string, resolution: Resolution): Promise<void> {
    const fields = {
      ...NO_RESOLUTION,
      ...resolution,
      resolvedAt: new Date(),
      expiresAt: new Date(Date.now() + this.config.LNADDRESS_CACHE_SECONDS * 1000),
    };
    await this.prisma.lnaddressResolution.upsert({ where: { address }, create: { address, ...fields }, update: fields });
  }

  // Invoices for the invoice payments among the next `limit` pending payments of the run. Returns those that got
  // none (the callback failed, or its invoice is not what was asked for): nothing was paid for them.
  async obtainInvoices(payoutId: bigint, limit: number): Promise<InvoiceRefusal[]> {
    const wanting = await this.prisma.$queryRaw<
      { id: bigint; amount_sats: number; custom_records: Record<string, string>; callback: string | null; comment_allowed: number | null; metadata_hash: string | null }[]
    >`
      SELECT k.id, k.amount_sats, k.custom_records, lr.callback, lr.comment_allowed, lr.metadata_hash
      FROM keysend k JOIN recipient r ON r.id = k.recipient_id LEFT JOIN lnaddress_resolution lr ON lr.address = r.address
      WHERE k.id IN (SELECT id FROM keysend WHERE payout_id = ${payoutId} AND status = ${KeysendStatus.Pending} ORDER BY id LIMIT ${limit})
        AND k.method = ${PaymentMethod.Invoice} AND k.invoice IS NULL
      ORDER BY k.id`;
    const refusals: InvoiceRefusal[] = [];
    await eachLimited(wanting, async (k) => {
      try {
        if (!k.callback || !k.metadata_hash) throw new LnaddressError(LnaddressFailure.InvoiceRefused, 'the address no longer offers LNURL-pay');
        const record = JSON.parse(k.custom_records[TLV_PODCAST_METADATA] ?? '{}') as Record<string, unknown>;
        const { invoice, paymentHash } = await this.client.invoice({
          callback: k.callback,
          msat: satsToMsat(k.amount_sats),
          comment: blip10Summary(record, k.comment_allowed ?? 0),
          metadataHash: k.metadata_hash,
        });
        await this.prisma.keysend.updateMany({ where: { id: k.id, status: KeysendStatus.Pending }, data: { invoice, paymentHash } });
        this.metrics.lnaddress.inc({ step: 'invoice', outcome: 'obtained' });
      } catch (error) {
        if (!(error instanceof LnaddressError)) throw error;
        this.metrics.lnaddress.inc({ step: 'invoice', outcome: 'refused' });
        refusals.push({ keysendId: k.id, reason: { code: error.code, message: error.message } });
      }
    });
    return refusals;
  }
}
