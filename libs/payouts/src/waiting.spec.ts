import { waitingOf, type WaitingRow } from './waiting.js';

const openUntil = new Date('2026-12-02T10:10:00Z');
const row = (fields: Partial<WaitingRow>): WaitingRow => ({
  address: 'ann@slow.test',
  owed: 30_000n,
  route_kind: null,
  route_fresh: null,
  min_sendable_msat: null,
  failure_code: null,
  failure_message: null,
  failure_detail: null,
  domain_open_until: null,
  domain_failures: null,
  domain_error_detail: null,
  ...fields,
});
const failed = { failure_code: 'lnaddress_unreachable', failure_message: "the address's domain could not be reached", failure_detail: 'ECONNREFUSED' };
const open = { domain_open_until: openUntil, domain_failures: 3, domain_error_detail: 'slow.test: no answer within the timeout' };

describe('why an address recipient waits (pure)', () => {
  it('says nothing for node recipients, for nothing owed, and for an address the next run pays', () => {
    expect(waitingOf(row({ address: '02'.padEnd(66, 'a') }), true)).toBeNull();
    expect(waitingOf(row({ owed: 0n }), true)).toBeNull();
    expect(waitingOf(row({ route_kind: 'lnurlp', route_fresh: true, min_sendable_msat: 1_000n }), true)).toBeNull();
    // A keysend route needs no call to the domain: an open breaker does not hold it.
    expect(waitingOf(row({ route_kind: 'keysend', route_fresh: true, ...open }), true)).toBeNull();
    // A refresh that failed while the route is still valid does not hold it either.
    expect(waitingOf(row({ route_kind: 'keysend', route_fresh: true, ...failed }), true)).toBeNull();
  });

  it('says the address has no route yet, or why its resolution failed (the detail for admins only)', () => {
    expect(waitingOf(row({}), false)).toEqual({
      code: 'lnaddress_unresolved',
      message: 'the address has not been resolved yet: the worker resolves it shortly',
    });
    expect(waitingOf(row({ route_kind: 'lnurlp', route_fresh: false }), false)).toMatchObject({ code: 'lnaddress_unresolved' });
    expect(waitingOf(row(failed), false)).toEqual({
      code: 'lnaddress_unreachable',
      message: "the address could not be resolved: the address's domain could not be reached",
    });
    expect(waitingOf(row(failed), true)).toMatchObject({ code: 'lnaddress_unreachable', detail: 'ECONNREFUSED' });
  });

  it("says until when its domain's breaker is open, for an address without a route or paid by invoice", () => {
    const message = "the address's domain failed 3 times in a row: it is not called until 2026-12-02T10:10:00.000Z";
    expect(waitingOf(row({ ...failed, ...open }), false)).toEqual({ code: 'lnaddress_domain_open', message });
    expect(waitingOf(row({ route_kind: 'lnurlp', route_fresh: true, ...open }), true)).toEqual({
      code: 'lnaddress_domain_open',
      message,
      detail: 'slow.test: no answer within the timeout',
    });
  });

  it("says what is owed below the address's minSendable (counted in the whole sats an invoice pays), and the minimum in sats", () => {
    expect(waitingOf(row({ route_kind: 'lnurlp', route_fresh: true, min_sendable_msat: 50_500n }), false)).toEqual({
      code: 'below_min_sendable',
      message: "waits until the address's minimum of 51 sats is reached; owed 30000 msat",
    });
    expect(waitingOf(row({ owed: 50_999n, route_kind: 'lnurlp', route_fresh: true, min_sendable_msat: 50_500n }), false)).toMatchObject({
      code: 'below_min_sendable',
    });
    expect(waitingOf(row({ owed: 51_000n, route_kind: 'lnurlp', route_fresh: true, min_sendable_msat: 50_500n }), false)).toBeNull();
  });

  it("applies the minimum to each app's owed on its own: an admin's total waits only while no app's owed reaches it", () => {
    const lnurlp = { route_kind: 'lnurlp', route_fresh: true, min_sendable_msat: 50_000n };
    // Two apps owe 30 sats each: 60 in all, yet neither app's owed makes the minimum, so the run pays nothing.
    expect(waitingOf(row({ owed: 60_000n, ...lnurlp }), true, [30_000n, 30_000n])).toEqual({
      code: 'below_min_sendable',
      message: "waits until one app's owed reaches the address's minimum of 50 sats; the most one app owes is 30000 msat",
    });
    expect(waitingOf(row({ owed: 60_000n, ...lnurlp }), true, [50_000n, 10_000n])).toBeNull();
    // One app owing: its owed is the total.
    expect(waitingOf(row({ ...lnurlp }), true, [30_000n, 0n])).toEqual({
      code: 'below_min_sendable',
      message: "waits until the address's minimum of 50 sats is reached; owed 30000 msat",
    });
  });
});
