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

  async findPayment(reference: string, sentAfter: Date): Promise<WalletPaymentRecord | null> {
    const memo = memoFor(reference);
    const createdAfter = new Date(sentAfter.getTime() - CLOCK_SKEW_MS);
    for (let page = 1; page <= MAX_PAGES; page++) {
      const payments = await this.client.listOutgoing({ page, items: PAGE_SIZE, createdAfter });
      const found = payments.find((p) => p.memo === memo);
      if (found) return { amountSats: found.amountSats, feeSats: found.feeSats, paymentHash: found.paymentHash, preimage: found.preimage };
      if (payments.length < PAGE_SIZE) return null;
    }
    return null;
  }
}
