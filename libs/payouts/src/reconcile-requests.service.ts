import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { QueueEvents } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { JobQueue } from '@splitstream/queue';
import { RECONCILE } from './jobs.js';
import type { ReconcileReport } from './reconciliation.service.js';

// How long the api waits for the worker's report before answering that the job is queued.
export const RECONCILE_WAIT_MS = 20_000;

export type ReconcileRequestResult =
  | { status: 'done'; jobId: string; report: ReconcileReport }
  | { status: 'queued'; jobId: string } // not finished within the wait: the worker still runs it
  | { status: 'failed'; jobId: string; reason: string }; // failed for good (after its retries)

// The api's side of reconciliation: it holds no wallet, so it enqueues a reconciliation for the worker (scoped
// to an app, or every app for an admin; optionally to some payments) and waits a while for its report.
@Injectable()
export class ReconcileRequests implements OnModuleDestroy {
  private readonly logger = new Logger(ReconcileRequests.name);
  private events?: QueueEvents;

  constructor(
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async request(scope: { tenant: string | null; paymentIds?: bigint[] }, waitMs = RECONCILE_WAIT_MS): Promise<ReconcileRequestResult> {
    // Queued first: while Redis is down that answers 503 within seconds, where opening the events would wait.
    const job = await this.jobs.add(RECONCILE, {
      request: randomUUID(),
      tenant: scope.tenant,
      ...(scope.paymentIds !== undefined && { paymentIds: scope.paymentIds.map(String) }),
    });
    const events = await this.queueEvents();
    const jobId = job.id!;
    try {
      const report = (await job.waitUntilFinished(events, waitMs)) as ReconcileReport;
      return { status: 'done', jobId, report };
    } catch (error) {
      // Timed out, or failed: ask the queue which.
      const state = await job.getState().catch(() => 'unknown');
      if (state === 'failed') {
        const failed = await this.jobs.queue(RECONCILE.queue).getJob(jobId);
        return { status: 'failed', jobId, reason: failed?.failedReason ?? (error as Error).message };
      }
      if (state === 'completed') {
        const done = await this.jobs.queue(RECONCILE.queue).getJob(jobId);
        if (done?.returnvalue) return { status: 'done', jobId, report: done.returnvalue as ReconcileReport };
      }
      return { status: 'queued', jobId };
    }
  }

  // One QueueEvents connection, opened on the first request (most api processes never reconcile).
  private async queueEvents(): Promise<QueueEvents> {
    if (!this.events) {
      this.events = new QueueEvents(RECONCILE.queue, {
        prefix: this.config.QUEUE_PREFIX,
        connection: { url: this.config.REDIS_URL, maxRetriesPerRequest: null, retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000) },
      });
      this.events.on('error', (error) => this.logger.warn(`Redis: ${error.message}`));
    }
    await this.events.waitUntilReady();
    return this.events;
  }

  async onModuleDestroy(): Promise<void> {
    await this.events?.close();
  }
}
