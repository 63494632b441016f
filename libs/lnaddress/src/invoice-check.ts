import bolt11 from 'bolt11';
import { LnaddressError, LnaddressFailure } from './route.js';

export interface ExpectedInvoice {
  msat: bigint;
  metadataHash: string; // the description hash an LNURL-pay invoice must carry (LUD-06)
  now: Date;
  minLifetimeSeconds: number; // the invoice must stay payable at least this long
  maxCltvExpiryBlocks: number; // the most blocks its min_final_cltv_expiry may ask for (INVOICE_MAX_CLTV_EXPIRY_BLOCKS)
}

// What a payer assumes when an invoice has no min_final_cltv_expiry tag (BOLT11).
export const DEFAULT_MIN_FINAL_CLTV_EXPIRY = 18;

export interface CheckedInvoice {
  paymentHash: string;
  expiresAt: Date;
}

const refuse = (message: string) => new LnaddressError(LnaddressFailure.InvoiceRefused, `the invoice was refused: ${message}`);

// An invoice from an LNURL-pay callback is paid only if it is exactly what was asked for: a signed BOLT11 for
// exactly this amount, carrying the hash of the address's metadata as its description hash, asking for a final
// CLTV of at most `maxCltvExpiryBlocks` (a payee asking for more could hold the payment longer than the service
// waits before it calls an absent payment unpaid), not expiring before it can be paid. Anything else is refused
// and nothing is paid.
export function checkInvoice(invoice: string, expected: ExpectedInvoice): CheckedInvoice {
  let decoded: bolt11.PaymentRequestObject;
  try {
    decoded = bolt11.decode(invoice);
  } catch (error) {
    throw refuse(`it is not a BOLT11 invoice (${(error as Error).message})`);
  }
  const msat = decoded.millisatoshis === undefined || decoded.millisatoshis === null ? undefined : BigInt(decoded.millisatoshis);
  if (msat !== expected.msat) throw refuse(`it is for ${msat ?? 'any amount of'} msat, not the ${expected.msat} msat asked for`);
  const tag = (name: string) => decoded.tags.find((t) => t.tagName === name)?.data;
  const descriptionHash = tag('purpose_commit_hash');
  if (typeof descriptionHash !== 'string') throw refuse("it carries no description hash; LUD-06 requires the hash of the address's metadata");
  if (descriptionHash.toLowerCase() !== expected.metadataHash.toLowerCase()) throw refuse("its description hash is not the hash of the address's metadata");
  const cltv = tag('min_final_cltv_expiry');
  const cltvBlocks = cltv === undefined ? DEFAULT_MIN_FINAL_CLTV_EXPIRY : cltv;
  if (typeof cltvBlocks !== 'number' || !Number.isSafeInteger(cltvBlocks)) throw refuse('its min_final_cltv_expiry is not a number of blocks');
  if (cltvBlocks > expected.maxCltvExpiryBlocks) {
    throw refuse(`it asks for a min_final_cltv_expiry of ${cltvBlocks} blocks, more than the ${expected.maxCltvExpiryBlocks} accepted`);
  }
  const paymentHash = tag('payment_hash');
  if (typeof paymentHash !== 'string' || !/^[0-9a-f]{64}$/i.test(paymentHash)) throw refuse('it has no payment hash');
  const expiresAt = new Date((decoded.timeExpireDate ?? (decoded.timestamp ?? 0) + 3600) * 1000);
  if (expiresAt.getTime() < expected.now.getTime() + expected.minLifetimeSeconds * 1000) {
    throw refuse(`it expires at ${expiresAt.toISOString()}, too soon to pay`);
  }
  return { paymentHash: paymentHash.toLowerCase(), expiresAt };
}
