export { checkInvoice, type CheckedInvoice, type ExpectedInvoice } from './invoice-check.js';
export { LNADDRESS_FAILURE_TEXT, LnaddressClient, type InvoiceRequest, type LnaddressClientOptions } from './lnaddress-client.js';
export { LnaddressModule, LNADDRESS_CLIENT } from './lnaddress.module.js';
export {
  keysendRoute,
  LnaddressError,
  LnaddressFailure,
  MAX_COMMENT_CHARS,
  payRequestRoute,
  type KeysendRoute,
  type LnurlpRoute,
  type AddressRoute,
} from './route.js';
export {
  breakerPhase,
  CLOSED,
  DomainGate,
  inDomainLanes,
  type BreakerPhase,
  type BreakerSettings,
  type BreakerStore,
  type BreakerState,
  type CallVerdict,
  type DomainFailure,
} from './domain-breaker.js';
