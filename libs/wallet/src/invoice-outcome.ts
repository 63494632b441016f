import { paymentHashOf } from '@splitstream/money';
import type { InvoicePaymentRequest, PaymentOutcome } from './wallet.types.js';

// An invoice payment's outcome as the pipeline takes it. Each invoice is a request of its own, so the wallet
// refusing what is in it (expired, wrong network, unpayable) is this payment's failure; a "paid" whose preimage
// does not hash to the invoice's payment hash is not proof of this payment.
export function invoiceOutcome(request: InvoicePaymentRequest, outcome: PaymentOutcome): PaymentOutcome {
  if (outcome.status === 'not_paid' && outcome.scope === 'request' && outcome.refusal === 'contents') {
    const { refusal: _refusal, ...rest } = outcome;
    return { ...rest, scope: 'item' };
  }
  if (outcome.status === 'paid' && (!/^[0-9a-f]{64}$/i.test(outcome.preimage) || paymentHashOf(outcome.preimage.toLowerCase()) !== request.paymentHash)) {
    return { status: 'unknown', reason: "the wallet answered with a preimage that is not this invoice's" };
  }
  return outcome.status === 'paid' ? { ...outcome, paymentHash: request.paymentHash, preimage: outcome.preimage.toLowerCase() } : outcome;
}
