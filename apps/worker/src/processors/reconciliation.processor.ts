import { Processor } from '@nestjs/bullmq';
import { RECONCILE, type ReconcileReport, Reconciliation } from '@splitstream/payouts';
import { type JobData, JobProcessor } from '@splitstream/queue';

@Processor(RECONCILE.queue)
export class ReconciliationProcessor extends JobProcessor<JobData<typeof RECONCILE>> {
  protected readonly contract = RECONCILE;

  constructor(private readonly reconciliation: Reconciliation) {
    super();
  }

  protected handle(): Promise<ReconcileReport> {
    return this.reconciliation.reconcile();
  }
}
