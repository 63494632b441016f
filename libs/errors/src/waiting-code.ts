// Why a recipient's owed money is not being paid yet (the recipient views' `waiting.code`), beside the codes of a
// failed Lightning-address resolution (lnaddress_unreachable, lnaddress_refused), which the view also shows.
export const WaitingCode = {
  // The address has no fresh route yet: the resolution job has not reached it.
  Unresolved: 'lnaddress_unresolved',
  // The address's domain failed LNADDRESS_BREAKER_FAILURES times in a row: it is not called until a given time.
  DomainOpen: 'lnaddress_domain_open',
  // What the address is owed is below its LNURL-pay minSendable: it is paid once it reaches it.
  BelowMinSendable: 'below_min_sendable',
} as const;
export type WaitingCode = (typeof WaitingCode)[keyof typeof WaitingCode];
