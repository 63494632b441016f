// The ledger's read side alone, for processes that only query it (the CLI): the index also loads the gauges and
// job contracts, which pull the queue (BullMQ, @nestjs/core).
export { invariantReportJson, LedgerQueries } from './ledger-queries.service.js';
