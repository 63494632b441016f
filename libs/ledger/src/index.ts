export { AccumulationService } from './accumulation.service.js';
export { LedgerQueries, type InvariantReport, type LedgerTotals, type RecipientIdentity } from './ledger-queries.service.js';
export { LedgerModule } from './ledger.module.js';
