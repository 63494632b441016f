import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import type { AddressRoute, BreakerSettings, BreakerState, DomainFailure } from '@splitstream/lnaddress';
import { Prisma, PrismaService } from '@splitstream/persistence';
import { resolutionFingerprint } from './fingerprint.js';

// A route's columns that neither kind leaves set (each kind sets its own over these).
const NO_ROUTE = { pubkey: null, customRecords: {}, callback: null, minSendableMsat: null, maxSendableMsat: null, commentAllowed: 0, metadataHash: null };

// The domain of a (stored, already checked and lowercased) Lightning Address.
export const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

// Which addresses one resolution takes (see toResolve).
export interface ResolveSelection {
  refreshSeconds: number; // a route is refreshed this long before it expires
  retrySeconds: number; // after a failed resolution; doubled per failure in a row, up to maxRetrySeconds
  maxRetrySeconds: number;
  perDomain: number; // addresses of one domain at most
  limit: number;
}

// Lightning addresses' routes, last failures and domains' breakers: what resolution writes and runs read. Each
// row is stamped with this process's resolutionFingerprint. A row under another fingerprint (learned by a process
// configured apart: another rail or host map, a rolling deploy) is stale here: never planned with, its address due
// for resolution, its failure and breaker not counted; it is overwritten by this process's next resolution, never
// deleted (the other process may still be using it).
@Injectable()
export class AddressStore {
  readonly fingerprint: string;

  readonly breaker: BreakerSettings;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.fingerprint = resolutionFingerprint(config);
    this.breaker = { failures: config.LNADDRESS_BREAKER_FAILURES, openSeconds: config.LNADDRESS_BREAKER_SECONDS };
  }

  // Addresses owed money (by any app) whose route is missing or expires within `refreshSeconds`, so that no app's
  // addresses (many, failing, on a slow or dead domain) hold another's: domains whose breaker is open are left
  // out, an address that failed waits its backoff, a domain gives at most `perDomain`, and the apps take turns
  // (each app's first address, then each one's second...). Within an app: refreshes of still valid routes (the
  // soonest to expire first), then addresses never tried, then those that failed before. Stale rows (another
  // fingerprint's) count as absent.
  async toResolve(s: ResolveSelection): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ address: string }[]>`
      WITH owed AS (
        SELECT DISTINCT r.address, b.app_id FROM recipient r JOIN balance b ON b.recipient_id = r.id AND b.owed_msat > 0 WHERE r.address LIKE '%@%'
      ), due AS (
        SELECT a.address, lr.expires_at, CASE WHEN lr.expires_at > now() THEN 0 WHEN lf.address IS NULL THEN 1 ELSE 2 END AS class
        FROM (SELECT DISTINCT address FROM owed) a
        LEFT JOIN lnaddress_route lr ON lr.address = a.address AND lr.fingerprint = ${this.fingerprint}
        LEFT JOIN lnaddress_failure lf ON lf.address = a.address AND lf.fingerprint = ${this.fingerprint}
        WHERE (lr.address IS NULL OR lr.expires_at <= now() + make_interval(secs => ${s.refreshSeconds}))
          AND (lf.address IS NULL
               OR lf.failed_at + make_interval(secs => LEAST(${s.maxRetrySeconds}, ${s.retrySeconds} * power(2, LEAST(lf.attempts, 32) - 1))) <= now())
          AND NOT EXISTS (SELECT 1 FROM lnaddress_domain d
                          WHERE d.domain = split_part(a.address, '@', 2) AND d.open_until > now() AND d.fingerprint = ${this.fingerprint})
      ), capped AS (
        SELECT due.*, ROW_NUMBER() OVER (PARTITION BY split_part(address, '@', 2) ORDER BY class, expires_at NULLS FIRST, address) AS in_domain FROM due
      ), turns AS (
        SELECT c.address, c.class, c.expires_at, ROW_NUMBER() OVER (PARTITION BY o.app_id ORDER BY c.class, c.expires_at NULLS FIRST, c.address) AS turn
        FROM capped c JOIN owed o ON o.address = c.address WHERE c.in_domain <= ${s.perDomain}
      )
      SELECT address FROM turns GROUP BY address, class, expires_at
      ORDER BY min(turn), class, expires_at NULLS FIRST, address LIMIT ${s.limit}`;
    return rows.map((r) => r.address);
  }

  // Whether an address is owed money but was never resolved nor tried under this fingerprint (new since the last
  // resolution, or only known from another process's config).
  async anyUntried(): Promise<boolean> {
    const [row] = await this.prisma.$queryRaw<{ untried: boolean }[]>`
      SELECT EXISTS (
        SELECT 1 FROM recipient r JOIN balance b ON b.recipient_id = r.id AND b.owed_msat > 0
        WHERE r.address LIKE '%@%'
          AND NOT EXISTS (SELECT 1 FROM lnaddress_route lr WHERE lr.address = r.address AND lr.fingerprint = ${this.fingerprint})
          AND NOT EXISTS (SELECT 1 FROM lnaddress_failure lf WHERE lf.address = r.address AND lf.fingerprint = ${this.fingerprint})) AS untried`;
    return row?.untried ?? false;
  }

  // A route's fields are the row's columns (the other kind's cleared); the address's last failure is forgotten.
  async saveRoute(address: string, route: AddressRoute, expiresAt: Date): Promise<void> {
    const fields = { ...NO_ROUTE, ...route, resolvedAt: new Date(), expiresAt, fingerprint: this.fingerprint };
    await this.prisma.$transaction([
      this.prisma.addressRoute.upsert({ where: { address }, create: { address, ...fields }, update: fields }),
      this.prisma.lnaddressFailure.deleteMany({ where: { address } }),
    ]);
  }

  // Its route, if any, is kept until it expires: a failed refresh does not stop a still valid route. Failures in a
  // row count under this fingerprint only: a stale failure's attempts start over.
  async saveFailure(address: string, failure: DomainFailure): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO lnaddress_failure (address, code, message, detail, failed_at, fingerprint, attempts)
      VALUES (${address}, ${failure.code}, ${failure.message}, ${failure.detail}, ${new Date()}, ${this.fingerprint}, 1)
      ON CONFLICT (address) DO UPDATE SET code = EXCLUDED.code, message = EXCLUDED.message, detail = EXCLUDED.detail,
        failed_at = EXCLUDED.failed_at, fingerprint = EXCLUDED.fingerprint,
        attempts = CASE WHEN lnaddress_failure.fingerprint = EXCLUDED.fingerprint THEN lnaddress_failure.attempts + 1 ELSE 1 END`;
  }

  // A stale breaker is closed here: its failures were another config's servers'.
  async breakers(domains: string[]): Promise<Map<string, BreakerState>> {
    const rows = await this.prisma.lnaddressDomain.findMany({ where: { domain: { in: domains }, fingerprint: this.fingerprint } });
    return new Map(rows.map((r) => [r.domain, { consecutiveFailures: r.consecutiveFailures, openUntil: r.openUntil }]));
  }

  // One failure more, in one statement (failures recorded at once are each counted; a stale row starts over): the
  // breaker opens for LNADDRESS_BREAKER_SECONDS from now once LNADDRESS_BREAKER_FAILURES are in a row, and every
  // failure after that (a failed probe) opens it again from its own time. Its reason is kept while the domain fails.
  async breakerFailed(domain: string, failure: DomainFailure): Promise<BreakerState> {
    const now = new Date();
    const openUntil = new Date(now.getTime() + this.breaker.openSeconds * 1000);
    const count = Prisma.sql`CASE WHEN d.fingerprint = EXCLUDED.fingerprint THEN d.consecutive_failures + 1 ELSE 1 END`;
    const [state] = await this.prisma.$queryRaw<BreakerState[]>`
      INSERT INTO lnaddress_domain AS d (domain, consecutive_failures, open_until, updated_at, last_error_code, last_error_message, last_error_detail, fingerprint)
      VALUES (${domain}, 1, ${1 >= this.breaker.failures ? openUntil : null}, ${now}, ${failure.code}, ${failure.message}, ${failure.detail}, ${this.fingerprint})
      ON CONFLICT (domain) DO UPDATE SET consecutive_failures = ${count},
        open_until = CASE WHEN ${count} >= ${this.breaker.failures} THEN ${openUntil}::timestamp ELSE NULL END,
        updated_at = EXCLUDED.updated_at, last_error_code = EXCLUDED.last_error_code, last_error_message = EXCLUDED.last_error_message,
        last_error_detail = EXCLUDED.last_error_detail, fingerprint = EXCLUDED.fingerprint
      RETURNING consecutive_failures AS "consecutiveFailures", open_until AS "openUntil"`;
    return state!;
  }

  // An answer closes the breaker and clears the reason; nothing is written when it is closed already.
  async breakerAnswered(domain: string): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE lnaddress_domain SET consecutive_failures = 0, open_until = NULL, updated_at = ${new Date()},
        last_error_code = NULL, last_error_message = NULL, last_error_detail = NULL, fingerprint = ${this.fingerprint}
      WHERE domain = ${domain} AND (consecutive_failures > 0 OR open_until IS NOT NULL OR fingerprint <> ${this.fingerprint})`;
  }
}
