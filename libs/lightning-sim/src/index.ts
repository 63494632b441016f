export { LnaddressHost, type IssuedLnaddressInvoice, type LnaddressUser } from './lnaddress-host.js';
export { issueInvoice, simulatedPreimage, type IssuedInvoice } from './simulated-invoices.js';
