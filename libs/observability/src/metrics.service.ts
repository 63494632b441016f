import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { IN_FLIGHT_STATUSES, KeysendStatus } from '@splitstream/ledger';
import { satsToMsat } from '@splitstream/money';
import { PrismaService } from '@splitstream/persistence';
import { JobQueue } from '@splitstream/queue';

// The service's Prometheus series. One registry per process (not prom-client's global one), so an api and a
// worker can share a process in tests. Gauges that describe the ledger and the queues are read at scrape time.
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly eventsAccepted = new Counter({ name: 'splitstream_events_accepted_total', help: 'Listening events accepted', registers: [this.registry] });
  readonly eventsDuplicate = new Counter({ name: 'splitstream_events_duplicate_total', help: 'Listening events already accepted before (no-ops)', registers: [this.registry] });
  readonly eventsRejected = new Counter({ name: 'splitstream_events_rejected_total', help: 'Listening events in rejected requests', registers: [this.registry] });
  readonly payoutRuns = new Counter({ name: 'splitstream_payout_runs_total', help: 'Payout runs by final status', labelNames: ['status'], registers: [this.registry] });
  readonly keysends = new Counter({ name: 'splitstream_keysends_total', help: 'Keysend outcomes', labelNames: ['outcome'], registers: [this.registry] });
  readonly lnaddress = new Counter({
    name: 'splitstream_lnaddress_total',
    help: 'Lightning-address steps: step="resolve" (outcome keysend, lnurlp, failed), step="invoice" (outcome obtained, refused)',
    labelNames: ['step', 'outcome'],
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

  constructor(prisma: PrismaService, jobs: JobQueue) {
    // Money an operator should watch: owed, in flight (a run is paying it, or its outcome is unknown), unknown,
    // and parked (its recipient failed too often), each with a count.
    // `sats`: the query counts whole sats, shown in msat through the one conversion (units.ts).
    const scalar = (name: string, help: string, query: () => Promise<{ value: bigint | number }[]>, unit: 'plain' | 'sats' = 'plain') =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const [row] = await query();
          const value = BigInt(row?.value ?? 0);
          this.set(Number(unit === 'sats' ? satsToMsat(value) : value));
        },
      });
    scalar('splitstream_owed_msat', 'Millisatoshis owed to recipients, not yet in flight', () =>
      prisma.$queryRaw`SELECT COALESCE(SUM(owed_msat), 0)::bigint AS value FROM balance`);
    scalar('splitstream_owed_recipients', 'Recipients owed something (not parked)', () =>
      prisma.$queryRaw`SELECT COUNT(DISTINCT recipient_id)::int AS value FROM balance WHERE owed_msat > 0`);
    scalar('splitstream_in_flight_keysends', 'Keysends in flight: pending, sending, or their outcome unknown', () =>
      prisma.$queryRaw`SELECT COUNT(*)::int AS value FROM keysend WHERE status = ANY(${IN_FLIGHT_STATUSES}::text[])`);
    scalar('splitstream_in_flight_msat', 'Millisatoshis in flight (being paid, or their outcome unknown)', () =>
      prisma.$queryRaw`SELECT COALESCE(SUM(in_flight_msat), 0)::bigint AS value FROM balance`);
    scalar('splitstream_parked_msat', 'Millisatoshis parked: owed to recipients parked after repeated failures', () =>
      prisma.$queryRaw`SELECT COALESCE(SUM(parked_msat), 0)::bigint AS value FROM balance`);
    scalar('splitstream_parked_recipients', 'Recipients parked until an operator unparks them', () =>
      prisma.$queryRaw`SELECT COUNT(*)::int AS value FROM recipient WHERE parked`);
    scalar(
      'splitstream_unknown_msat',
      'Millisatoshis in keysends whose outcome is unknown',
      () => prisma.$queryRaw`SELECT COALESCE(SUM(amount_sats), 0)::bigint AS value FROM keysend WHERE status = ${KeysendStatus.Unknown}`,
      'sats',
    );
    scalar('splitstream_unknown_keysends', 'Keysends whose outcome is unknown (reconciliation settles them)', () =>
      prisma.$queryRaw`SELECT COUNT(*)::int AS value FROM keysend WHERE status = ${KeysendStatus.Unknown}`);
    new Gauge({
      name: 'splitstream_accumulation_lag_seconds',
      help: 'Age of the oldest accepted event not yet applied to the ledger (0 when none)',
      registers: [this.registry],
      async collect() {
        const [row] = await prisma.$queryRaw<{ lag: number | null }[]>`
          SELECT EXTRACT(EPOCH FROM now() - MIN(received_at))::float8 AS lag FROM listening_event WHERE applied_at IS NULL`;
        this.set(row?.lag ?? 0);
      },
    });
    new Gauge({
      name: 'splitstream_queue_jobs',
      help: 'BullMQ jobs by queue and state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        for (const name of jobs.names()) {
          const counts = await jobs.queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed');
          for (const [state, count] of Object.entries(counts)) this.set({ queue: name, state }, count);
        }
      },
    });
  }
}
