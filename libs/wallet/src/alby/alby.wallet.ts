import type { KeysendRequest, PayOptions, PaymentOutcome, Wallet, WalletPaymentRecord } from '../wallet.types.js';
import type { AlbyClient } from './alby-client.js';

// How far back the outgoing list is searched, in pages of PAGE_SIZE (newest first).
const PAGE_SIZE = 100;
const MAX_PAGES = 50;
// The wallet stamps payments with its own clock: search from a little before we sent.
const CLOCK_SKEW_MS = 10 * 60_000;

export const memoFor = (reference: string) => `splitstream ${reference}`;

// The pipeline's Wallet on the Alby API: a batch of keysends is one /payments/keysend/multi request.
export class AlbyWallet implements Wallet {
  constructor(private readonly client: AlbyClient) {}

  payKeysends(requests: KeysendRequest[], options?: PayOptions): Promise<PaymentOutcome[]> {
    return this.client.keysendMulti(requests, options);
  }

  // One pass over the settled outgoing payments since `sentAfter` (newest first), matching memos.
  async findPayments(references: string[], sentAfter: Date): Promise<Map<string, WalletPaymentRecord>> {
    const wanted = new Map(references.map((reference) => [memoFor(reference), reference]));
    const found = new Map<string, WalletPaymentRecord>();
    const createdAfter = new Date(sentAfter.getTime() - CLOCK_SKEW_MS);
    for (let page = 1; page <= MAX_PAGES && found.size < wanted.size; page++) {
      const payments = await this.client.listOutgoing({ page, items: PAGE_SIZE, createdAfter });
      for (const p of payments) {
        const reference = wanted.get(p.memo);
        if (reference) found.set(reference, { amountSats: p.amountSats, feeSats: p.feeSats, paymentHash: p.paymentHash, preimage: p.preimage });
      }
      if (payments.length < PAGE_SIZE) break;
    }
    return found;
  }
}
