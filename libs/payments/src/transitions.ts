import { PaymentStatus } from '@splitstream/ledger';

// Every move a payment may make, and only these. `unknown` ends only on evidence (a PaymentVerdict).
//   pending -> sending -> succeeded | failed | unknown;  unknown -> succeeded | failed;  pending | sending -> cancelled
export const PAYMENT_TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  [PaymentStatus.Pending]: [PaymentStatus.Sending, PaymentStatus.Cancelled],
  [PaymentStatus.Sending]: [PaymentStatus.Succeeded, PaymentStatus.Failed, PaymentStatus.Unknown, PaymentStatus.Cancelled],
  [PaymentStatus.Unknown]: [PaymentStatus.Succeeded, PaymentStatus.Failed],
  [PaymentStatus.Succeeded]: [],
  [PaymentStatus.Failed]: [],
  [PaymentStatus.Cancelled]: [],
};

export const canMove = (from: PaymentStatus, to: PaymentStatus): boolean => PAYMENT_TRANSITIONS[from].includes(to);

// Moves that settle an unknown outcome: each needs a verdict (the evidence, or an admin's override).
export const needsVerdict = (from: PaymentStatus): boolean => from === PaymentStatus.Unknown;

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
  constructor(from: PaymentStatus, to: PaymentStatus) {
    super(`a payment cannot move from ${from} to ${to}`);
  }
}
