import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

// The service's Prometheus series. One registry per process (not prom-client's global one), so an api and a
// worker can share a process in tests. This lib is a leaf (it imports no other lib but config): the gauges read
// from PostgreSQL and BullMQ at scrape time are registered here by libs/ledger's LedgerGauges.
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly eventsAccepted = new Counter({ name: 'splitstream_events_accepted_total', help: 'Listening events accepted', registers: [this.registry] });
  readonly eventsDuplicate = new Counter({
    name: 'splitstream_events_duplicate_total',
    help: 'Listening events already accepted before (no-ops)',
    registers: [this.registry],
  });
  readonly eventsConflict = new Counter({
    name: 'splitstream_events_conflict_total',
    help: 'Listening events whose id was already used for different content (nothing changed)',
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'splitstream_events_rejected_total',
    help: 'Listening events rejected, each judged on its own (those of a malformed request are not counted)',
    registers: [this.registry],
  });
  readonly rateLimitFallback = new Counter({
    name: 'splitstream_rate_limit_fallback_total',
    help: 'Requests whose rate limit was counted in the api process, not in Redis (slow or down), by budget',
    labelNames: ['budget'],
    registers: [this.registry],
  });
  readonly payoutRuns = new Counter({
    name: 'splitstream_payout_runs_total',
    help: 'Payout runs by final status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly keysends = new Counter({ name: 'splitstream_keysends_total', help: 'Keysend outcomes', labelNames: ['outcome'], registers: [this.registry] });
  readonly lnaddress = new Counter({
    name: 'splitstream_lnaddress_total',
    help: 'Lightning-address steps: step="resolve" (outcome keysend, lnurlp, failed, domain_open), step="invoice" (outcome obtained, refused, domain_open)',
    labelNames: ['step', 'outcome'],
    registers: [this.registry],
  });
  readonly lnaddressBreakerOpens = new Counter({
    name: 'splitstream_lnaddress_breaker_opens_total',
    help: 'Lightning-address domains whose circuit breaker opened (no call to them until it closes)',
    registers: [this.registry],
  });
  readonly paidSats = new Counter({ name: 'splitstream_paid_sats_total', help: 'Sats paid by succeeded keysends', registers: [this.registry] });
  readonly feeSats = new Counter({ name: 'splitstream_fee_sats_total', help: 'Routing fees paid, in sats', registers: [this.registry] });
  readonly payoutRunSeconds = new Histogram({
    name: 'splitstream_payout_run_seconds',
    help: 'Duration of payout runs, by final status',
    labelNames: ['status'],
    buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers: [this.registry],
  });
  readonly walletBalance = new Gauge({
    name: 'splitstream_wallet_balance_msat',
    help: 'The wallet balance where the rail reports it (NWC get_balance), as of the last health probe',
    registers: [this.registry],
  });
  readonly walletLatency = new Histogram({
    name: 'splitstream_wallet_request_seconds',
    help: 'Wallet API request latency',
    labelNames: ['route', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
}
