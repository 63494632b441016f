import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Metric, Registry } from 'prom-client';

// How intake stored a group of requests (libs/ingestion): in one statement, or judged in a transaction (from the
// start, or after the statement found a cap reached, a listener id missing, or failed otherwise).
export const INGEST_GROUP_PATHS = ['one_statement', 'judged_before_insert', 'after_cap_reached', 'after_listener_id_missing', 'after_statement_error'] as const;
export type IngestGroupPath = (typeof INGEST_GROUP_PATHS)[number];

// Which process a registry belongs to: each publishes only the series it moves. The cli serves no /metrics.
export type MetricsProcess = 'api' | 'worker' | 'cli';
export const METRICS_PROCESS = Symbol('METRICS_PROCESS');

// The service's Prometheus series. One registry per process (not prom-client's global one), so an api and a
// worker can share a process in tests. A counter only one process moves is published by that process alone: the
// other's would read 0 beside the true value (a dashboard summing both, or reading the wrong one, is misled).
// Series read from PostgreSQL and Redis at scrape time are the same on both (libs/ledger's LedgerGauges): this
// lib is a leaf (it imports no other lib but config).
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  // api: what arrives over HTTP.
  readonly eventsAccepted = new Counter({ name: 'splitstream_events_accepted_total', help: 'Listening events accepted', registers: [] });
  readonly eventsDuplicate = new Counter({
    name: 'splitstream_events_duplicate_total',
    help: 'Listening events already accepted before (no-ops)',
    registers: [],
  });
  readonly eventsConflict = new Counter({
    name: 'splitstream_events_conflict_total',
    help: 'Listening events whose id was already used for different content (nothing changed)',
    registers: [],
  });
  readonly eventsRejected = new Counter({
    name: 'splitstream_events_rejected_total',
    help: 'Listening events rejected, each judged on its own (those of a malformed request are not counted)',
    registers: [],
  });
  readonly rateLimitFallback = new Counter({
    name: 'splitstream_rate_limit_fallback_total',
    help: 'Requests whose rate limit was counted in the api process, not in Redis (slow or down), by budget',
    labelNames: ['budget'],
    registers: [],
  });

  readonly ingestGroups = new Counter<'path'>({
    name: 'splitstream_ingest_groups_total',
    help: `Group commits of POST /v1/events by how they were stored: path=${INGEST_GROUP_PATHS.join(', ')}`,
    labelNames: ['path'],
    registers: [],
  });

  // worker: payouts, Lightning addresses and the wallet.
  readonly payoutRuns = new Counter({ name: 'splitstream_payout_runs_total', help: 'Payout runs by final status', labelNames: ['status'], registers: [] });
  readonly keysends = new Counter({ name: 'splitstream_keysends_total', help: 'Keysend outcomes', labelNames: ['outcome'], registers: [] });
  readonly lnaddress = new Counter({
    name: 'splitstream_lnaddress_total',
    help: 'Lightning-address steps: step="resolve" (outcome keysend, lnurlp, failed, domain_open), step="invoice" (outcome obtained, refused, domain_open)',
    labelNames: ['step', 'outcome'],
    registers: [],
  });
  readonly lnaddressBreakerOpens = new Counter({
    name: 'splitstream_lnaddress_breaker_opens_total',
    help: 'Lightning-address domains whose circuit breaker opened (no call to them until it closes)',
    registers: [],
  });
  readonly paidSats = new Counter({ name: 'splitstream_paid_sats_total', help: 'Sats paid by succeeded keysends', registers: [] });
  readonly feeSats = new Counter({ name: 'splitstream_fee_sats_total', help: 'Routing fees paid, in sats', registers: [] });
  readonly payoutRunSeconds = new Histogram({
    name: 'splitstream_payout_run_seconds',
    help: 'Duration of payout runs, by final status',
    labelNames: ['status'],
    buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers: [],
  });
  readonly walletLatency = new Histogram({
    name: 'splitstream_wallet_request_seconds',
    help: 'Wallet API request latency',
    labelNames: ['route', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [],
  });
  // Published from the first balance the wallet reports (reportWalletBalance): a rail that reports none (the Alby
  // contract has no balance route) shows no gauge, rather than a 0 that reads as an empty wallet.
  private readonly walletBalance = new Gauge({
    name: 'splitstream_wallet_balance_msat',
    help: 'The wallet balance where the rail reports it (NWC get_balance), as of the last health probe that got one',
    registers: [],
  });
  // When that was: a balance that stopped being reported (the wallet unreachable) otherwise looks current.
  private readonly walletBalanceReportedAt = new Gauge({
    name: 'splitstream_wallet_balance_reported_timestamp_seconds',
    help: 'Unix time of the last health probe that got a wallet balance (splitstream_wallet_balance_msat)',
    registers: [],
  });

  constructor(@Inject(METRICS_PROCESS) private readonly owner: MetricsProcess) {
    const owned: Record<MetricsProcess, Metric[]> = {
      api: [this.eventsAccepted, this.eventsDuplicate, this.eventsConflict, this.eventsRejected, this.rateLimitFallback, this.ingestGroups],
      worker: [
        this.payoutRuns,
        this.keysends,
        this.lnaddress,
        this.lnaddressBreakerOpens,
        this.paidSats,
        this.feeSats,
        this.payoutRunSeconds,
        this.walletLatency,
      ],
      cli: [],
    };
    for (const metric of owned[owner]) this.registry.registerMetric(metric);
  }

  // The worker's look at its wallet found this balance.
  reportWalletBalance(msat: number): void {
    this.walletBalance.set(msat);
    this.walletBalanceReportedAt.set(Date.now() / 1000);
    if (this.owner === 'worker' && !this.registry.getSingleMetric('splitstream_wallet_balance_msat')) {
      this.registry.registerMetric(this.walletBalance);
      this.registry.registerMetric(this.walletBalanceReportedAt);
    }
  }
}
