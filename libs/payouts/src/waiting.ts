import { WaitingCode } from '@splitstream/errors';
import { MSAT_PER_SAT } from '@splitstream/money';
import { Prisma } from '@splitstream/persistence';

// Why an address recipient's owed money is not being paid (the recipient views' `waiting`): its route, its last
// failed resolution and its domain's breaker, read beside the recipient row `r` (see RecipientsService). Rows of
// another resolution fingerprint are stale (see AddressStore): as good as absent.
export const WAITING_COLUMNS = Prisma.sql`w.route_kind, w.route_fresh, w.min_sendable_msat, w.failure_code, w.failure_message, w.failure_detail,
  w.domain_open_until, w.domain_failures, w.domain_error_detail`;
export const waitingJoin = (fingerprint: string) => Prisma.sql`
  LEFT JOIN LATERAL (
    SELECT lr.kind AS route_kind, lr.expires_at > now() AS route_fresh, lr.min_sendable_msat,
           lf.code AS failure_code, lf.message AS failure_message, lf.detail AS failure_detail,
           d.open_until AS domain_open_until, d.consecutive_failures AS domain_failures, d.last_error_detail AS domain_error_detail
    FROM (SELECT 1) one
    LEFT JOIN lnaddress_route lr ON lr.address = r.address AND lr.fingerprint = ${fingerprint}
    LEFT JOIN lnaddress_failure lf ON lf.address = r.address AND lf.fingerprint = ${fingerprint}
    LEFT JOIN lnaddress_domain d ON d.domain = split_part(r.address, '@', 2) AND d.open_until > now() AND d.fingerprint = ${fingerprint}
    WHERE r.address LIKE '%@%') w ON true`;

export interface WaitingRow {
  address: string;
  owed: bigint;
  route_kind: string | null;
  route_fresh: boolean | null;
  min_sendable_msat: bigint | null;
  failure_code: string | null;
  failure_message: string | null;
  failure_detail: string | null;
  domain_open_until: Date | null;
  domain_failures: number | null;
  domain_error_detail: string | null;
}

// `detail` (the transport error, what a server answered) is for admin keys only.
export interface Waiting {
  code: string;
  message: string;
  detail?: string | null;
}

const ceilSats = (msat: bigint) => (msat + MSAT_PER_SAT - 1n) / MSAT_PER_SAT;

// Null when nothing is owed, for node recipients, and for an address the next run pays. The minimum applies to
// each app's owed on its own (a run combines one app's balances only): `appsOwed`, every app's owed (the admin
// view of all apps' money), waits below it only while no app's owed reaches it (and says so if several owe).
export function waitingOf(r: WaitingRow, admin: boolean, appsOwed?: bigint[]): Waiting | null {
  if (r.owed <= 0n || !r.address.includes('@')) return null;
  const withDetail = (waiting: Waiting, detail: string | null) => (admin ? { ...waiting, detail } : waiting);
  const needsDomain = !r.route_fresh || r.route_kind === 'lnurlp';
  if (needsDomain && r.domain_open_until) {
    const message = `the address's domain failed ${r.domain_failures} times in a row: it is not called until ${r.domain_open_until.toISOString()}`;
    return withDetail({ code: WaitingCode.DomainOpen, message }, r.domain_error_detail);
  }
  if (!r.route_fresh) {
    if (r.failure_code) return withDetail({ code: r.failure_code, message: `the address could not be resolved: ${r.failure_message}` }, r.failure_detail);
    return { code: WaitingCode.Unresolved, message: 'the address has not been resolved yet: the worker resolves it shortly' };
  }
  // Invoices are for whole sats: the owed msat count once they make the minimum's sats.
  const minSats = r.min_sendable_msat === null ? 0n : ceilSats(r.min_sendable_msat);
  const most = appsOwed?.reduce((a, b) => (b > a ? b : a), 0n) ?? r.owed;
  if (r.route_kind === 'lnurlp' && most / MSAT_PER_SAT < minSats) {
    const message =
      appsOwed && appsOwed.filter((owed) => owed > 0n).length > 1
        ? `waits until one app's owed reaches the address's minimum of ${minSats} sats; the most one app owes is ${most} msat`
        : `waits until the address's minimum of ${minSats} sats is reached; owed ${r.owed} msat`;
    return { code: WaitingCode.BelowMinSendable, message };
  }
  return null;
}
