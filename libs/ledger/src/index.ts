export { AccumulationService } from './accumulation.service.js';
export { invariantReportJson, LedgerQueries, recipientView, type InvariantReport, type LedgerTotals, type RecipientIdentity } from './ledger-queries.service.js';
export { LedgerModule } from './ledger.module.js';
