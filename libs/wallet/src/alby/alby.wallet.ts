import { invoiceOutcome } from '../invoice-outcome.js';
import type { InvoicePaymentRequest, KeysendRequest, PaymentLookup, PayOptions, PaymentOutcome, SentPayment, Wallet, WalletStatus } from '../wallet.types.js';
import { type AlbyClient, WalletReadError } from './alby-client.js';

// How far back the outgoing list is searched, in pages of PAGE_SIZE (newest first).
const PAGE_SIZE = 100;
const MAX_PAGES = 50;
// The wallet stamps payments with its own clock: search from a little before we sent.
const CLOCK_SKEW_MS = 10 * 60_000;

export const memoFor = (reference: string) => `splitstream ${reference}`;

// The pipeline's Wallet on the Alby API: a batch of keysends is one /payments/keysend/multi request. The server
// chooses each keysend's preimage, so a payment is found later only by the reference in its memo.
export class AlbyWallet implements Wallet {
  readonly choosesPreimage = false;

  constructor(private readonly client: AlbyClient) {}

  // One outgoing-list request: it needs the token (transactions:read), so a 401 shows bad credentials.
  async status(): Promise<WalletStatus> {
    try {
      await this.client.listOutgoing({ items: 1 });
      return { reachable: true, authorized: true };
    } catch (error) {
      if (!(error instanceof WalletReadError)) throw error;
      return { reachable: error.httpStatus !== undefined, authorized: error.httpStatus !== 401, message: error.message };
    }
  }

  payKeysends(requests: KeysendRequest[], options?: PayOptions): Promise<PaymentOutcome[]> {
    return this.client.keysendMulti(requests, options);
  }

  // POST /payments/bolt11, one invoice after another (the route takes one invoice; the client paces requests).
  async payInvoices(requests: InvoicePaymentRequest[], options?: PayOptions): Promise<PaymentOutcome[]> {
    const outcomes: PaymentOutcome[] = [];
    for (const request of requests) outcomes.push(invoiceOutcome(request, await this.client.payBolt11(request.invoice, undefined, options)));
    return outcomes;
  }

  // One pass over the settled outgoing payments since `sentAfter` (newest first), matching keysends by the memo
  // and invoice payments by their payment hash. The list holds settled payments only: a failed payment is absent.
  async findPayments(payments: SentPayment[], sentAfter: Date): Promise<Map<string, PaymentLookup>> {
    const wanted = new Map(payments.map(({ reference }) => [memoFor(reference), reference]));
    const byHash = new Map(payments.filter((p) => p.paymentHash).map(({ reference, paymentHash }) => [paymentHash!, reference]));
    const found = new Map<string, PaymentLookup>();
    const createdAfter = new Date(sentAfter.getTime() - CLOCK_SKEW_MS);
    for (let page = 1; page <= MAX_PAGES && found.size < payments.length; page++) {
      const payments = await this.client.listOutgoing({ page, items: PAGE_SIZE, createdAfter });
      for (const p of payments) {
        const reference = wanted.get(p.memo) ?? byHash.get(p.paymentHash);
        if (reference) {
          found.set(reference, {
            state: 'settled',
            record: { amountSats: p.amountSats, feeSats: p.feeSats, paymentHash: p.paymentHash, preimage: p.preimage },
          });
        }
      }
      if (payments.length < PAGE_SIZE) break;
    }
    return found;
  }
}
