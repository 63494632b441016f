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

// Why a wallet refused a whole request: `contents`, something in it it will not take (a destination, custom
// records), so one of its keysends is to blame; `wallet`, the wallet itself (auth, balance, limits, unreachable),
// nobody's fault among the recipients; `rate_limit`, too many requests, try again after `retryAfter`.
export type RequestRefusal = 'contents' | 'wallet' | 'rate_limit';

// Certainly not paid: safe to send again later.
export interface NotPaidOutcome {
  status: 'not_paid';
  code: number | string | null; // the wallet's error code, null when the request never reached it
  message: string;
  httpStatus?: number;
  // `request`: the whole request was refused and nothing in it was paid; `item`: this payment failed.
  scope: 'request' | 'item';
  refusal?: RequestRefusal; // set when scope is `request`
  retryAfter?: Date;
}

// The payment may have happened: never send it again blindly.
export interface UnknownOutcome {
  status: 'unknown';
  reason: string;
  httpStatus?: number;
}

export type PaymentOutcome = PaidOutcome | NotPaidOutcome | UnknownOutcome;

export interface PayOptions {
  // Aborting ends the wait for an answer (the outcome is then unknown) or, before sending, sends nothing.
  signal?: AbortSignal;
}

// A payment as the wallet itself recorded it: the evidence that settles an unknown outcome.
export interface WalletPaymentRecord {
  amountSats: number;
  feeSats: number;
  paymentHash: string;
  preimage: string;
}

export interface Wallet {
  // One outcome per request, in request order (correlated by index, never by destination).
  payKeysends(requests: KeysendRequest[], options?: PayOptions): Promise<PaymentOutcome[]>;
  // The wallet's own records of settled payments, found by the references splitstream gave them (the memo
  // `splitstream <reference>`), sent no earlier than `sentAfter`. A reference the wallet has no settled
  // payment for is absent from the map. Throws when the wallet cannot be asked.
  findPayments(references: string[], sentAfter: Date): Promise<Map<string, WalletPaymentRecord>>;
}

export const WALLET = Symbol('WALLET');

export class InvalidPaymentRequestError extends Error {
  override name = 'InvalidPaymentRequestError';
}
