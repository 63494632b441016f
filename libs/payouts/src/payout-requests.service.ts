import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { PayoutStatus } from '@splitstream/ledger';
import { PrismaService } from '@splitstream/persistence';
import { JobQueue } from '@splitstream/queue';
import { BOOST_TRIGGER, RUN_PAYOUT } from './jobs.js';
import { runIsStale } from './store/payout-store.js';

// A request for a manual run: the run started (a new one) or the one already queued or running.
export interface RunRequest {
  id: bigint;
  started: boolean;
  status: PayoutStatus;
}

interface ActiveRun {
  id: bigint;
  status: PayoutStatus;
  stale: boolean;
}

// Enough for any run that ended between an insert that found it active and the look that follows.
const MAX_TRIES = 5;

// Starting a payout run: a payout row first (its id is the answer), then the job that runs it. At most one run is
// queued or running (the partial unique index payout_one_active): asking for a run while one is active gets that
// run, across api instances, without a lock. A run that can no longer end by itself (queued longer than the
// heartbeat timeout: its job was lost; running with a heartbeat that old: its worker hung) is superseded: a new run
// takes its place (the worker that starts it takes the hung run's lock over and ends it interrupted).
@Injectable()
export class PayoutRequests {
  constructor(
    private readonly prisma: PrismaService,
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async requestManualRun(): Promise<RunRequest> {
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const id = await this.insert('manual', null);
      if (id !== undefined) return { id, started: true, status: PayoutStatus.Queued };
      const active = await this.active();
      if (active && !active.stale) return { id: active.id, started: false, status: active.status };
      if (active) await this.supersede(active);
    }
    throw new Error('no payout run could be started or found: runs kept starting and ending meanwhile');
  }

  // Every worker's timer fires; the unique tick key lets exactly one of them start the run for this tick, and none
  // starts while a run is active (that run pays what this one would).
  async requestScheduledRun(now: Date, intervalSeconds: number): Promise<bigint | undefined> {
    const tickKey = `schedule:${Math.floor(now.getTime() / 1000 / intervalSeconds)}`;
    const id = await this.insert('schedule', tickKey);
    if (id !== undefined) return id;
    const active = await this.active();
    if (!active?.stale) return undefined;
    await this.supersede(active);
    return this.insert('schedule', tickKey);
  }

  // A new queued run and its job, or undefined when a run is active (or this tick's run exists).
  private async insert(trigger: 'manual' | 'schedule', tickKey: string | null): Promise<bigint | undefined> {
    const [row] = await this.prisma.$queryRaw<{ id: bigint }[]>`
      INSERT INTO payout (trigger, tick_key, status) VALUES (${trigger}, ${tickKey}, ${PayoutStatus.Queued})
      ON CONFLICT DO NOTHING RETURNING id`;
    if (!row) return undefined;
    try {
      await this.jobs.enqueue(RUN_PAYOUT, { payoutId: String(row.id) });
    } catch (error) {
      // Without its job the run would never start, and would hold the place of every later one.
      await this.prisma.payout.updateMany({
        where: { id: row.id, status: PayoutStatus.Queued },
        data: { status: PayoutStatus.Skipped, note: 'its job could not be queued', finishedAt: new Date() },
      });
      throw error;
    }
    return row.id;
  }

  // A boost's own run (BoostPayer) never holds a scheduled or manual run's place.
  private async active(): Promise<ActiveRun | undefined> {
    const [row] = await this.prisma.$queryRaw<ActiveRun[]>`
      SELECT id, status, ${runIsStale(this.config.PAYOUT_HEARTBEAT_TIMEOUT_SECONDS)} AS stale
      FROM payout WHERE status IN (${PayoutStatus.Queued}, ${PayoutStatus.Running}) AND NOT superseded AND trigger <> ${BOOST_TRIGGER}`;
    return row;
  }

  // A queued run that never started is skipped; a running one keeps its status (the next run's worker takes its
  // lock over and ends it interrupted) but no longer holds the place of a new run.
  private async supersede(run: ActiveRun): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE payout SET superseded = true,
        status = CASE WHEN status = ${PayoutStatus.Queued} THEN ${PayoutStatus.Skipped} ELSE status END,
        note = CASE WHEN status = ${PayoutStatus.Queued} THEN 'its job was lost; a new run took its place' ELSE note END,
        finished_at = CASE WHEN status = ${PayoutStatus.Queued} THEN now() ELSE finished_at END
      WHERE id = ${run.id} AND status IN (${PayoutStatus.Queued}, ${PayoutStatus.Running}) AND ${runIsStale(this.config.PAYOUT_HEARTBEAT_TIMEOUT_SECONDS)}`;
  }
}
