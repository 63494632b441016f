import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { MAX_EVENTS_PER_REQUEST } from '@splitstream/ingestion';
import { AccumulationService, APPLY_EVENTS } from '@splitstream/ledger';
import { PayoutRequests, PayoutRunner, RECONCILE, RESOLVE_ADDRESSES } from '@splitstream/payouts';
import { BoostQueries, PAY_BOOSTS } from '@splitstream/boosts';
import { RESOLVE_BOOST } from '@splitstream/feeds';
import { JobQueue } from '@splitstream/queue';
import { TenantsService } from '@splitstream/tenants';

const SWEEP_EVERY_MS = 15_000;
const SWEEP_AFTER_SECONDS = 10;
const SWEEP_BATCH = 20 * MAX_EVENTS_PER_REQUEST;
const PRUNE_SPEND_EVERY_MS = 3_600_000;
const BOOST_SWEEP_BATCH = 1_000;
const BOOST_SWEEP_PER_APP = 100;

// The worker's timers only enqueue work: a payout run per tick, a sweep that queues events whose job was lost
// (stored while Redis was down), a boost sweep with it (a PAY_BOOSTS job for shares still owed: a job lost, a
// recipient unparked or done backing off; and the blocks of boosts by reference still to find, apps in turn), a reconciliation of unknown keysends per tick, a Lightning-address resolution per
// tick (and one at start), and an hourly clean-up of spend counters of past days. Intervals come from config, so they are registered here, not by decorator.
@Injectable()
export class WorkerSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(WorkerSchedule.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly payouts: PayoutRequests,
    private readonly runner: PayoutRunner,
    private readonly accumulation: AccumulationService,
    private readonly jobs: JobQueue,
    private readonly tenants: TenantsService,
    private readonly boosts: BoostQueries,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.recoverInterrupted();
    const every = (name: string, ms: number, task: () => Promise<unknown>) =>
      this.registry.addInterval(
        name,
        setInterval(() => task().catch((error: Error) => this.logger.error(`${name}: ${error.message}`)), ms),
      );
    const interval = this.config.PAYOUT_INTERVAL_SECONDS;
    every('payout-tick', interval * 1000, () => this.payouts.requestScheduledRun(new Date(), interval));
    every('event-sweep', SWEEP_EVERY_MS, () => this.sweep());
    every('boost-sweep', SWEEP_EVERY_MS, () => this.sweepBoosts(String(Math.floor(Date.now() / SWEEP_EVERY_MS))));
    every('prune-spend', PRUNE_SPEND_EVERY_MS, () => this.tenants.pruneSpend());
    const reconcileEvery = this.config.RECONCILE_INTERVAL_SECONDS;
    every('reconcile-tick', reconcileEvery * 1000, () =>
      this.jobs.enqueue(RECONCILE, { tick: String(Math.floor(Date.now() / 1000 / reconcileEvery)), tenant: null }),
    );
    const resolveEvery = this.config.LNADDRESS_RESOLVE_INTERVAL_SECONDS;
    const resolve = () => this.jobs.enqueue(RESOLVE_ADDRESSES, { tick: String(Math.floor(Date.now() / 1000 / resolveEvery)) });
    every('lnaddress-resolve-tick', resolveEvery * 1000, resolve);
    void resolve().catch((error: Error) => this.logger.warn(`lnaddress-resolve-tick: ${error.message}`));
  }

  async sweepBoosts(tick: string, olderThanSeconds = SWEEP_AFTER_SECONDS): Promise<void> {
    await this.jobs.enqueue(PAY_BOOSTS, { tick });
    for (const id of await this.boosts.awaitingValue(olderThanSeconds, BOOST_SWEEP_PER_APP, BOOST_SWEEP_BATCH))
      await this.jobs.enqueue(RESOLVE_BOOST, { boostId: String(id), after: `sweep-${tick}` });
  }

  async sweep(olderThanSeconds = SWEEP_AFTER_SECONDS): Promise<void> {
    const ids = await this.accumulation.unappliedEventIds(olderThanSeconds, SWEEP_BATCH);
    for (let i = 0; i < ids.length; i += MAX_EVENTS_PER_REQUEST) {
      const eventIds = ids.slice(i, i + MAX_EVENTS_PER_REQUEST).map(String);
      await this.jobs.enqueue(APPLY_EVENTS, { eventIds });
    }
  }
}
