// Every status of the books, defined once: the database CHECK constraints, the API and the dashboard use these.

export const PaymentStatus = {
  Pending: 'pending', // recorded, amount in flight, request not sent: safe to send (or cancel)
  Sending: 'sending', // the request may have gone out
  Succeeded: 'succeeded', // paid
  Failed: 'failed', // certainly not paid; amount back to owed (or parked)
  Unknown: 'unknown', // may have been paid; stays in flight until reconciled or resolved, never re-sent blindly
  Cancelled: 'cancelled', // never sent; amount back to owed (or parked)
} as const;
export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];

// Where an accepted listening event stands: applied to the ledger, awaiting accumulation (the summary's
// awaitingAccumulation), or set aside (its stored payload cannot be split: never applied; the summary's setAside).
export const EventStatus = {
  Applied: 'applied',
  Awaiting: 'awaiting',
  SetAside: 'set_aside',
} as const;
export type EventStatus = (typeof EventStatus)[keyof typeof EventStatus];
export const EVENT_STATUSES = Object.values(EventStatus);

// How a keysend row pays: a keysend to a node, or an invoice from a Lightning Address's LNURL-pay callback.
export const PaymentMethod = {
  Keysend: 'keysend',
  Invoice: 'invoice',
} as const;
export type PaymentMethod = (typeof PaymentMethod)[keyof typeof PaymentMethod];

// Keysend statuses whose amount is in flight.
export const IN_FLIGHT_STATUSES: readonly PaymentStatus[] = [PaymentStatus.Pending, PaymentStatus.Sending, PaymentStatus.Unknown];

export const PayoutStatus = {
  Queued: 'queued',
  Running: 'running',
  Completed: 'completed', // every keysend of the run was paid (or nothing was due)
  Partial: 'partial', // some keysends were not paid, or their outcome is unknown
  Failed: 'failed', // the run could not pay anything; `note` says why
  Interrupted: 'interrupted', // its worker died or stopped; the next start or a heartbeat timeout finished it
  Skipped: 'skipped', // another run was in progress
} as const;
export type PayoutStatus = (typeof PayoutStatus)[keyof typeof PayoutStatus];

export const FINAL_PAYOUT_STATUSES: readonly PayoutStatus[] = [
  PayoutStatus.Completed,
  PayoutStatus.Partial,
  PayoutStatus.Failed,
  PayoutStatus.Interrupted,
  PayoutStatus.Skipped,
];

export const RecipientState = {
  Active: 'active',
  BackingOff: 'backing_off', // failed recently; paid again after nextAttemptAt
  Parked: 'parked', // failed MAX_ATTEMPTS times in a row: its money is parked until an operator unparks it
} as const;
export type RecipientState = (typeof RecipientState)[keyof typeof RecipientState];

export const recipientState = (r: { parked: boolean; nextAttemptAt: Date | null }, now = new Date()): RecipientState =>
  r.parked ? RecipientState.Parked : r.nextAttemptAt && r.nextAttemptAt > now ? RecipientState.BackingOff : RecipientState.Active;
