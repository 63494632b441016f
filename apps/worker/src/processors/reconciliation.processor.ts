import { Processor } from '@nestjs/bullmq';
import { RECONCILE, type ReconcileReport, Reconciliation } from '@splitstream/payouts';
import { type JobData, JobProcessor } from '@splitstream/queue';

// Scheduled reconciliations (every app's payments) and those the api enqueues for a caller (its app's, or some
// of them); the report is the job's return value, which the api waits for.
@Processor(RECONCILE.queue)
export class ReconciliationProcessor extends JobProcessor<JobData<typeof RECONCILE>> {
  protected readonly contract = RECONCILE;

  constructor(private readonly reconciliation: Reconciliation) {
    super();
  }

  protected handle(data: JobData<typeof RECONCILE>): Promise<ReconcileReport> {
    return this.reconciliation.reconcile({
      tenant: data.tenant ?? null,
      ...(data.paymentIds !== undefined && { paymentIds: data.paymentIds.map((id) => BigInt(id)) }),
    });
  }
}
