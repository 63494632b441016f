import bolt11 from 'bolt11';
import { LnaddressError, LnaddressFailure } from './resolution.js';

export interface ExpectedInvoice {
  msat: bigint;
  metadataHash: string; // the description hash an LNURL-pay invoice must carry, where it carries one
  now: Date;
  minLifetimeSeconds: number; // the invoice must stay payable at least this long
}

export interface CheckedInvoice {
  paymentHash: string;
  expiresAt: Date;
}

const refuse = (message: string) => new LnaddressError(LnaddressFailure.InvoiceRefused, `the invoice was refused: ${message}`);

// An invoice from an LNURL-pay callback is paid only if it is exactly what was asked for: a signed BOLT11 for
// exactly this amount, its description hash (if it has one) the hash of the address's metadata, not expiring
// before it can be paid. Anything else is refused and nothing is paid.
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
  if (typeof descriptionHash === 'string' && descriptionHash.toLowerCase() !== expected.metadataHash) {
    throw refuse("its description hash is not the hash of the address's metadata");
  }
  const paymentHash = tag('payment_hash');
  if (typeof paymentHash !== 'string' || !/^[0-9a-f]{64}$/i.test(paymentHash)) throw refuse('it has no payment hash');
  const expiresAt = new Date((decoded.timeExpireDate ?? (decoded.timestamp ?? 0) + 3600) * 1000);
  if (expiresAt.getTime() < expected.now.getTime() + expected.minLifetimeSeconds * 1000) {
    throw refuse(`it expires at ${expiresAt.toISOString()}, too soon to pay`);
  }
  return { paymentHash: paymentHash.toLowerCase(), expiresAt };
}
