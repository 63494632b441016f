export { checkInvoice, type CheckedInvoice, type ExpectedInvoice } from './invoice-check.js';
export { LnaddressClient, type InvoiceRequest, type LnaddressClientOptions } from './lnaddress-client.js';
export { LnaddressModule, LNADDRESS_CLIENT } from './lnaddress.module.js';
export {
  keysendRoute,
  LnaddressError,
  LnaddressFailure,
  payRequestRoute,
  type KeysendRoute,
  type LnurlpRoute,
  type AddressRoute,
} from './route.js';
