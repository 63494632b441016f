export { LnaddressHost, type IssuedLnaddressInvoice, type LnaddressUser } from './lnaddress-host.js';
export { issueInvoice, SIM_PAYEE_PUBKEY, simulatedPreimage, type IssuedInvoice } from './simulated-invoices.js';
