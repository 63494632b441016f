import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { type AddressRoute, type BreakerState, CLOSED, type DomainFailure } from '@splitstream/lnaddress';
import { PrismaService } from '@splitstream/persistence';
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

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.fingerprint = resolutionFingerprint(config);
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

  // A failure's reason is kept while the domain fails; an answer clears it. The row is locked from read to write:
  // failures recorded at once are each counted (a stale row counts as closed).
  async breakerFailed(domain: string, failure: DomainFailure, next: (stored: BreakerState) => BreakerState): Promise<BreakerState> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO lnaddress_domain (domain, fingerprint) VALUES (${domain}, ${this.fingerprint}) ON CONFLICT (domain) DO NOTHING`;
      const [row] = await tx.$queryRaw<{ consecutive_failures: number; open_until: Date | null; fingerprint: string }[]>`
        SELECT consecutive_failures, open_until, fingerprint FROM lnaddress_domain WHERE domain = ${domain} FOR UPDATE`;
      const state = next(row!.fingerprint === this.fingerprint ? { consecutiveFailures: row!.consecutive_failures, openUntil: row!.open_until } : CLOSED);
      await tx.lnaddressDomain.update({
        where: { domain },
        data: {
          ...state,
          updatedAt: new Date(),
          lastErrorCode: failure.code,
          lastErrorMessage: failure.message,
          lastErrorDetail: failure.detail,
          fingerprint: this.fingerprint,
        },
      });
      return state;
    });
  }

  async breakerAnswered(domain: string): Promise<void> {
    const fields = {
      ...CLOSED,
      updatedAt: new Date(),
      lastErrorCode: null,
      lastErrorMessage: null,
      lastErrorDetail: null,
      fingerprint: this.fingerprint,
    };
    await this.prisma.lnaddressDomain.upsert({ where: { domain }, create: { domain, ...fields }, update: fields });
  }
}
