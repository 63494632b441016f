// The one interface the payout pipeline pays through. Alby's Wallet API implements it today; a Nostr Wallet
// Connect or LND backend would implement the same, without the pipeline changing.

export interface KeysendRequest {
  amountSats: number; // whole sats, > 0
  destination: string; // 66-hex compressed node pubkey
  memo?: string; // stored by the wallet with the payment; splitstream puts its keysend reference here
  customRecords?: Record<string, string>; // TLV type (decimal) -> UTF-8 value
}

export interface PaidOutcome {
  status: 'paid';
  amountSats: number;
  feeSats: number;
  paymentHash: string;
  preimage: string;
  destination: string;
  customRecords: Record<string, string>;
}

// Certainly not paid: safe to send again later.
export interface NotPaidOutcome {
  status: 'not_paid';
  code: number | null; // the wallet API's error code, null when the request never reached it
  message: string;
  httpStatus?: number;
  // `request`: the whole request was refused (auth, balance, rate limit, validation); `item`: this payment failed.
  scope: 'request' | 'item';
  retryAfter?: Date;
}

// The payment may have happened: never send it again blindly.
export interface UnknownOutcome {
  status: 'unknown';
  reason: string;
  httpStatus?: number;
}

export type PaymentOutcome = PaidOutcome | NotPaidOutcome | UnknownOutcome;

export interface Wallet {
  // One outcome per request, in request order (correlated by index, never by destination).
  payKeysends(requests: KeysendRequest[]): Promise<PaymentOutcome[]>;
}

export const WALLET = Symbol('WALLET');

export class InvalidPaymentRequestError extends Error {
  override name = 'InvalidPaymentRequestError';
}
