export { checkInvoice, type CheckedInvoice, type ExpectedInvoice } from './invoice-check.js';
export { LnaddressClient, type InvoiceRequest, type LnaddressClientOptions } from './lnaddress-client.js';
export { LnaddressModule, LNADDRESS_CLIENT } from './lnaddress.module.js';
export {
  keysendResolution,
  LnaddressError,
  LnaddressFailure,
  payRequestResolution,
  type KeysendResolution,
  type LnurlpResolution,
  type Resolution,
} from './resolution.js';
