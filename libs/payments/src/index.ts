export {
  type DraftPart,
  type Moved,
  PAYMENT_ROW_COLUMNS,
  type PaidItem,
  type PaymentDraft,
  PaymentMoves,
  type PaymentRow,
  type Reason,
  type ReasonItem,
  type Verdict,
} from './payment-moves.js';
export { Payments } from './payments.service.js';
export { PaymentsModule } from './payments.module.js';
export { canMove, IllegalTransitionError, needsVerdict, PAYMENT_TRANSITIONS } from './transitions.js';
