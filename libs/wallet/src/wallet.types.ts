// The one interface the payout pipeline pays through. Alby's Wallet API implements it today; a Nostr Wallet
// Connect or LND backend would implement the same, without the pipeline changing.

export interface KeysendRequest {
  amountSats: number; // whole sats, > 0
  destination: string; // 66-hex compressed node pubkey
  memo?: string; // stored by the wallet with the payment; splitstream puts its keysend reference here
  customRecords?: Record<string, string>; // TLV type (decimal) -> UTF-8 value
  preimage?: string; // 64 hex, chosen by splitstream before sending, where the rail takes it (Wallet.choosesPreimage)
}

// An invoice to pay (a Lightning Address's LNURL-pay invoice), already checked against what was asked for.
export interface InvoicePaymentRequest {
  invoice: string; // BOLT11, for exactly amountSats
  amountSats: number;
  paymentHash: string; // from the invoice: an answer whose preimage does not hash to it is not this payment's
  metadata?: Record<string, unknown>; // stored with the payment where the rail takes it (NWC): the bLIP-10 record
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

// What the wallet says of a payment splitstream sent: settled (with its record), failed, or still pending (in
// flight); absent from the map when it has no record of it (NWC: never sent; Alby: not settled, which proves nothing).
export type PaymentLookup = { state: 'settled'; record: WalletPaymentRecord } | { state: 'failed' } | { state: 'pending' };

export interface SentPayment {
  reference: string; // the memo `splitstream <reference>`, also the bLIP-10 uuid
  paymentHash: string | null; // known before sending where splitstream chose the preimage, or from the invoice
}

// Whether the wallet answers, accepts our credentials, and (where the rail says) its balance.
export interface WalletStatus {
  reachable: boolean;
  authorized: boolean;
  balanceMsat?: number;
  message?: string;
}

export interface Wallet {
  status(): Promise<WalletStatus>;
  // Whether the rail takes a preimage chosen by the sender (so the payment hash is known before sending).
  readonly choosesPreimage: boolean;
  // One outcome per request, in request order (correlated by index, never by destination).
  payKeysends(requests: KeysendRequest[], options?: PayOptions): Promise<PaymentOutcome[]>;
  // One outcome per invoice, in request order. Each invoice is its own request: a refusal of its contents is that
  // payment's failure; a refusal by the wallet itself (auth, balance, rate) stays request-scoped.
  payInvoices(requests: InvoicePaymentRequest[], options?: PayOptions): Promise<PaymentOutcome[]>;
  // The wallet's own records of these payments, sent no earlier than `sentAfter`, keyed by reference.
  // Throws when the wallet cannot be asked.
  findPayments(payments: SentPayment[], sentAfter: Date): Promise<Map<string, PaymentLookup>>;
}

export const WALLET = Symbol('WALLET');

export class InvalidPaymentRequestError extends Error {
  override name = 'InvalidPaymentRequestError';
}
