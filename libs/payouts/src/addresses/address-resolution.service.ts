import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { type CallVerdict, inDomainLanes, LNADDRESS_CLIENT, LnaddressClient, LnaddressError, LnaddressFailure } from '@splitstream/lnaddress';
import { MetricsService } from '@splitstream/observability';
import { LNADDRESS_LOCK, Locks } from '../store/session-lock.js';
import { AddressStore, domainOf } from './address-store.js';
import { DomainBreakers } from './domain-breakers.js';

// Addresses resolved per job at most, and of one domain; the rest waits for the next one.
const MAX_ADDRESSES_PER_JOB = 5_000;
const MAX_ADDRESSES_PER_DOMAIN = 500;
// The longest an address that keeps failing waits before it is tried again.
const MAX_RETRY_SECONDS = 3_600;

export interface ResolutionReport {
  ran: boolean; // false: another resolution held the lock
  resolved: number;
  failed: number;
  skipped: number; // their domain's breaker was open
  deferred: number; // not started within the job's time budget: the next job takes them
}

// Lightning-address resolution, a worker job of its own and never on the payout path: the addresses owed money
// whose route is missing or expires soon (refreshed before it expires, so a healthy address never lapses) are
// resolved, every domain at once, each at most LNADDRESS_DOMAIN_CONCURRENCY calls at a time and through its
// circuit breaker. A job starts no call after its time budget (one resolution interval), so a slow domain delays
// the next job by one timeout at most. A failure is the address's (kept for the recipient views), never its recipients' failure:
// their money stays owed.
@Injectable()
export class AddressResolution {
  private readonly logger = new Logger(AddressResolution.name);

  constructor(
    private readonly store: AddressStore,
    private readonly breakers: DomainBreakers,
    private readonly locks: Locks,
    @Inject(LNADDRESS_CLIENT) private readonly client: LnaddressClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  // A route is refreshed this long before it expires: two jobs (each an interval's budget, then its last calls'
  // two timeouts at most), at most half its lifetime.
  private get refreshSeconds(): number {
    const job = this.config.LNADDRESS_RESOLVE_INTERVAL_SECONDS + (2 * this.config.LNADDRESS_TIMEOUT_MS) / 1000;
    return Math.min(2 * job, this.config.LNADDRESS_CACHE_SECONDS / 2);
  }

  async resolveDue(): Promise<ResolutionReport> {
    const report: ResolutionReport = { ran: false, resolved: 0, failed: 0, skipped: 0, deferred: 0 };
    const lock = await this.locks.tryAcquire(LNADDRESS_LOCK);
    if (!lock) return report;
    try {
      report.ran = true;
      const interval = this.config.LNADDRESS_RESOLVE_INTERVAL_SECONDS;
      const until = Date.now() + interval * 1000;
      const addresses = await this.store.toResolve({
        refreshSeconds: this.refreshSeconds,
        retrySeconds: interval,
        maxRetrySeconds: Math.max(interval, MAX_RETRY_SECONDS),
        perDomain: MAX_ADDRESSES_PER_DOMAIN,
        limit: MAX_ADDRESSES_PER_JOB,
      });
      const gates = await this.breakers.gates(addresses.map(domainOf));
      report.deferred = await inDomainLanes(
        addresses,
        domainOf,
        this.config.LNADDRESS_DOMAIN_CONCURRENCY,
        async (address, domain) => {
          const verdict = await gates.get(domain)!.through(() => this.resolve(address));
          if (verdict === undefined) this.metrics.lnaddress.inc({ step: 'resolve', outcome: 'domain_open' });
          report[verdict === undefined ? 'skipped' : verdict.answered && !verdict.failed ? 'resolved' : 'failed']++;
        },
        () => Date.now() >= until,
      );
    } finally {
      await lock.release();
    }
    if (report.resolved + report.failed + report.skipped + report.deferred > 0) this.logger.log(report, 'lightning addresses resolved');
    return report;
  }

  // The domain answered unless it could not be reached (the breaker counts only those).
  private async resolve(address: string): Promise<CallVerdict & { failed?: boolean }> {
    try {
      const route = await this.client.resolve(address);
      await this.store.saveRoute(address, route, new Date(Date.now() + this.config.LNADDRESS_CACHE_SECONDS * 1000));
      this.metrics.lnaddress.inc({ step: 'resolve', outcome: route.kind });
      return { answered: true };
    } catch (error) {
      if (!(error instanceof LnaddressError)) throw error;
      const failure = { code: error.code, message: error.message, detail: error.detail };
      await this.store.saveFailure(address, failure);
      this.metrics.lnaddress.inc({ step: 'resolve', outcome: 'failed' });
      this.logger.warn({ code: error.code }, `lightning address not resolved: ${error.detail}`);
      return error.code === LnaddressFailure.Unreachable ? { answered: false, failure } : { answered: true, failed: true };
    }
  }
}
