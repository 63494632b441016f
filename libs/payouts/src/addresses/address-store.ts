import { Injectable } from '@nestjs/common';
import type { AddressRoute, BreakerState, DomainFailure } from '@splitstream/lnaddress';
import { PrismaService } from '@splitstream/persistence';

// A route's columns that neither kind leaves set (each kind sets its own over these).
const NO_ROUTE = { pubkey: null, customRecords: {}, callback: null, minSendableMsat: null, maxSendableMsat: null, commentAllowed: 0, metadataHash: null };

// The domain of a (stored, already checked and lowercased) Lightning Address.
export const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

// Lightning addresses' routes, last failures and domains' breakers: what resolution writes and runs read.
@Injectable()
export class AddressStore {
  constructor(private readonly prisma: PrismaService) {}

  // Addresses owed money (by any app) whose route is missing or expires within `refreshSeconds`: those never
  // resolved first, then the soonest to expire.
  async toResolve(refreshSeconds: number, limit: number): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ address: string }[]>`
      SELECT r.address FROM recipient r LEFT JOIN lnaddress_route lr ON lr.address = r.address
      WHERE r.address LIKE '%@%' AND EXISTS (SELECT 1 FROM balance b WHERE b.recipient_id = r.id AND b.owed_msat > 0)
        AND (lr.address IS NULL OR lr.expires_at <= now() + make_interval(secs => ${refreshSeconds}))
      GROUP BY r.address, lr.expires_at ORDER BY lr.expires_at NULLS FIRST, r.address LIMIT ${limit}`;
    return rows.map((r) => r.address);
  }

  // Whether an address is owed money but was never resolved nor tried (new since the last resolution).
  async anyUntried(): Promise<boolean> {
    const [row] = await this.prisma.$queryRaw<{ untried: boolean }[]>`
      SELECT EXISTS (
        SELECT 1 FROM recipient r JOIN balance b ON b.recipient_id = r.id AND b.owed_msat > 0
        WHERE r.address LIKE '%@%'
          AND NOT EXISTS (SELECT 1 FROM lnaddress_route lr WHERE lr.address = r.address)
          AND NOT EXISTS (SELECT 1 FROM lnaddress_failure lf WHERE lf.address = r.address)) AS untried`;
    return row?.untried ?? false;
  }

  // A route's fields are the row's columns (the other kind's cleared); the address's last failure is forgotten.
  async saveRoute(address: string, route: AddressRoute, expiresAt: Date): Promise<void> {
    const fields = { ...NO_ROUTE, ...route, resolvedAt: new Date(), expiresAt };
    await this.prisma.$transaction([
      this.prisma.addressRoute.upsert({ where: { address }, create: { address, ...fields }, update: fields }),
      this.prisma.lnaddressFailure.deleteMany({ where: { address } }),
    ]);
  }

  // Its route, if any, is kept until it expires: a failed refresh does not stop a still valid route.
  async saveFailure(address: string, failure: DomainFailure): Promise<void> {
    const fields = { ...failure, failedAt: new Date() };
    await this.prisma.lnaddressFailure.upsert({ where: { address }, create: { address, ...fields }, update: fields });
  }

  async breakers(domains: string[]): Promise<Map<string, BreakerState>> {
    const rows = await this.prisma.lnaddressDomain.findMany({ where: { domain: { in: domains } } });
    return new Map(rows.map((r) => [r.domain, { consecutiveFailures: r.consecutiveFailures, openUntil: r.openUntil }]));
  }

  // A failure's reason is kept while the domain fails; an answer clears it.
  async saveBreaker(domain: string, state: BreakerState, failure: DomainFailure | null): Promise<void> {
    const fields = {
      consecutiveFailures: state.consecutiveFailures,
      openUntil: state.openUntil,
      updatedAt: new Date(),
      lastErrorCode: failure?.code ?? null,
      lastErrorMessage: failure?.message ?? null,
      lastErrorDetail: failure?.detail ?? null,
    };
    await this.prisma.lnaddressDomain.upsert({ where: { domain }, create: { domain, ...fields }, update: fields });
  }
}
