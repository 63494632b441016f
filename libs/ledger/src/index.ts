export { AccumulationService } from './accumulation.service.js';
export { ApplyBatcher, MAX_EVENTS_PER_TRANSACTION } from './apply-batcher.js';
export {
  accrue,
  allocate,
  balanceKey,
  park,
  release,
  reserve,
  settle,
  transferRemainder,
  unpark,
  type Accrual,
  type AppRecipientKey,
  type BalanceKey,
  type PaymentAmount,
  type Share,
  utcDayOf,
} from './books.js';
export { accrueBoost, type AppliedBoost, type BoostJoin, type BoostShare, joinStreamBalance } from './boost-books.js';
export {
  type EventFilter,
  invariantReportJson,
  LedgerQueries,
  ofTenant,
  recipientView,
  type InvariantReport,
  type LedgerTotals,
  type RecipientIdentity,
  valueBlockView,
} from './ledger-queries.service.js';
export { LedgerGauges } from './ledger-gauges.js';
export { LedgerModule } from './ledger.module.js';
export type { ListeningPayload } from './listening-payload.js';
export {
  EVENT_STATUSES,
  EventStatus,
  FINAL_PAYOUT_STATUSES,
  IN_FLIGHT_STATUSES,
  PaymentStatus,
  PaymentMethod,
  PayoutStatus,
  RecipientState,
  recipientState,
} from './statuses.js';
export { APPLY_EVENTS } from './jobs.js';
