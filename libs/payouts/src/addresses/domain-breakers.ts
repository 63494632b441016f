import { Injectable, Logger } from '@nestjs/common';
import { type BreakerStore, CLOSED, DomainGate } from '@splitstream/lnaddress';
import { MetricsService } from '@splitstream/observability';
import { AddressStore } from './address-store.js';

// The domains' circuit breakers (lnaddress_domain) as gates for one pass over their addresses (a resolution job,
// one chunk's invoices): every verdict is stored at once, so every other pass, in any worker, counts it.
@Injectable()
export class DomainBreakers {
  private readonly logger = new Logger(DomainBreakers.name);

  constructor(
    private readonly store: AddressStore,
    private readonly metrics: MetricsService,
  ) {}

  async gates(domains: string[]): Promise<Map<string, DomainGate>> {
    const unique = [...new Set(domains)];
    const states = await this.store.breakers(unique);
    return new Map(unique.map((d) => [d, new DomainGate(d, states.get(d) ?? CLOSED, this.store.breaker, this.recorder)]));
  }

  // An opening is counted once: when the failures in a row reach the set number (each count is one failure's), or
  // when a probe fails. Calls still under way when it opened add failures, not openings.
  private readonly recorder: BreakerStore = {
    failed: async (domain, failure, probe) => {
      const state = await this.store.breakerFailed(domain, failure);
      if (state.openUntil && (probe || state.consecutiveFailures === this.store.breaker.failures)) {
        this.metrics.lnaddressBreakerOpens.inc();
        this.logger.warn(
          { domain, failures: state.consecutiveFailures, openUntil: state.openUntil.toISOString(), code: failure.code },
          `lightning-address domain not called again before ${state.openUntil.toISOString()}: ${failure.detail}`,
        );
      }
      return state;
    },
    answered: (domain) => this.store.breakerAnswered(domain),
  };
}
