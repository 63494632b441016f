import type { KeysendRequest, PaymentOutcome, Wallet } from '../wallet.types.js';
import type { AlbyClient } from './alby-client.js';

// The pipeline's Wallet on the Alby API: a batch of keysends is one /payments/keysend/multi request.
export class AlbyWallet implements Wallet {
  constructor(private readonly client: AlbyClient) {}

  payKeysends(requests: KeysendRequest[]): Promise<PaymentOutcome[]> {
    return this.client.keysendMulti(requests);
  }
}
