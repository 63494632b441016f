import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { type BreakerSettings, type BreakerStore, CLOSED, DomainGate } from '@splitstream/lnaddress';
import { MetricsService } from '@splitstream/observability';
import { AddressStore } from './address-store.js';

// The domains' circuit breakers (lnaddress_domain) as gates for one pass over their addresses (a resolution job,
// one chunk's invoices): every new state is stored at once, so the next pass, in any worker, sees it.
@Injectable()
export class DomainBreakers {
  private readonly logger = new Logger(DomainBreakers.name);

  constructor(
    private readonly store: AddressStore,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get settings(): BreakerSettings {
    return { failures: this.config.LNADDRESS_BREAKER_FAILURES, openSeconds: this.config.LNADDRESS_BREAKER_SECONDS };
  }

  async gates(domains: string[]): Promise<Map<string, DomainGate>> {
    const unique = [...new Set(domains)];
    const states = await this.store.breakers(unique);
    return new Map(unique.map((d) => [d, new DomainGate(d, states.get(d) ?? CLOSED, this.settings, this.recorder)]));
  }

  private readonly recorder: BreakerStore = {
    failed: async (domain, failure, next) => {
      const state = await this.store.breakerFailed(domain, failure, next);
      if (state.openUntil) {
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
