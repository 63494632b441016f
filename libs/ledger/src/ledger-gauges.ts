import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { satsToMsat } from '@splitstream/money';
import { MetricsService } from '@splitstream/observability';
import { PrismaService } from '@splitstream/persistence';
import { JobQueue } from '@splitstream/queue';
import { IN_FLIGHT_STATUSES, PaymentStatus } from './statuses.js';

// The gauges read from PostgreSQL and BullMQ at scrape time, registered on the process's MetricsService registry
// when the api or the worker starts (their modules provide this). They live here, not in libs/observability, so
// that observability stays a leaf: the wallet and the NWC simulator use metrics without pulling Prisma or BullMQ.
@Injectable()
export class LedgerGauges {
  constructor(metrics: MetricsService, prisma: PrismaService, jobs: JobQueue) {
    // Money an operator should watch: owed, in flight (a run is paying it, or its outcome is unknown), unknown,
    // and parked (its recipient failed too often), each with a count.
    // `sats`: the query counts whole sats, shown in msat through the one conversion (units.ts).
    const scalar = (name: string, help: string, query: () => Promise<{ value: bigint | number }[]>, unit: 'plain' | 'sats' = 'plain') =>
      new Gauge({
        name,
        help,
        registers: [metrics.registry],
        async collect() {
          const [row] = await query();
          const value = BigInt(row?.value ?? 0);
          this.set(Number(unit === 'sats' ? satsToMsat(value) : value));
        },
      });
    scalar(
      'splitstream_owed_msat',
      'Millisatoshis owed to recipients, not yet in flight',
      () => prisma.$queryRaw`SELECT COALESCE(SUM(owed_msat), 0)::bigint AS value FROM balance`,
    );
    scalar(
      'splitstream_owed_recipients',
      'Recipients owed something (not parked)',
      () => prisma.$queryRaw`SELECT COUNT(DISTINCT recipient_id)::int AS value FROM balance WHERE owed_msat > 0`,
    );
    scalar(
      'splitstream_in_flight_keysends',
      'Keysends in flight: pending, sending, or their outcome unknown',
      () => prisma.$queryRaw`SELECT COUNT(*)::int AS value FROM payment WHERE status = ANY(${IN_FLIGHT_STATUSES}::text[])`,
    );
    scalar(
      'splitstream_in_flight_msat',
      'Millisatoshis in flight (being paid, or their outcome unknown)',
      () => prisma.$queryRaw`SELECT COALESCE(SUM(in_flight_msat), 0)::bigint AS value FROM balance`,
    );
    scalar(
      'splitstream_parked_msat',
      'Millisatoshis parked: owed to recipients parked after repeated failures',
      () => prisma.$queryRaw`SELECT COALESCE(SUM(parked_msat), 0)::bigint AS value FROM balance`,
    );
    scalar(
      'splitstream_parked_recipients',
      'Recipients parked (for one app or more) until an operator unparks them',
      () => prisma.$queryRaw`SELECT COUNT(DISTINCT recipient_id)::int AS value FROM app_recipient WHERE parked`,
    );
    scalar(
      'splitstream_unknown_msat',
      'Millisatoshis in keysends whose outcome is unknown',
      () => prisma.$queryRaw`SELECT COALESCE(SUM(amount_sats), 0)::bigint AS value FROM payment WHERE status = ${PaymentStatus.Unknown}`,
      'sats',
    );
    scalar(
      'splitstream_unknown_keysends',
      'Keysends whose outcome is unknown (reconciliation settles them)',
      () => prisma.$queryRaw`SELECT COUNT(*)::int AS value FROM payment WHERE status = ${PaymentStatus.Unknown}`,
    );
    // A set-aside event is never applied (nothing retries it): it is counted apart, not as lag that grows forever.
    new Gauge({
      name: 'splitstream_accumulation_lag_seconds',
      help: 'Age of the oldest accepted event awaiting accumulation, set-aside events left out (0 when none)',
      registers: [metrics.registry],
      async collect() {
        const [row] = await prisma.$queryRaw<{ lag: number | null }[]>`
          SELECT EXTRACT(EPOCH FROM now() - MIN(received_at))::float8 AS lag FROM listening_event WHERE applied_at IS NULL AND apply_error IS NULL`;
        this.set(row?.lag ?? 0);
      },
    });
    scalar(
      'splitstream_set_aside_events',
      'Accepted events set aside: their stored payload cannot be split, so they are never applied (GET /v1/events?status=set_aside)',
      () => prisma.$queryRaw`SELECT COUNT(*)::int AS value FROM listening_event WHERE apply_error IS NOT NULL`,
    );
    new Gauge({
      name: 'splitstream_queue_jobs',
      help: 'BullMQ jobs by queue and state',
      labelNames: ['queue', 'state'],
      registers: [metrics.registry],
      async collect() {
        for (const name of jobs.names()) {
          const counts = await jobs.queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed');
          for (const [state, count] of Object.entries(counts)) this.set({ queue: name, state }, count);
        }
      },
    });
  }
}
