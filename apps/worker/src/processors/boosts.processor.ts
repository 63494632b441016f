import { Processor } from '@nestjs/bullmq';
import { PAY_BOOST } from '@splitstream/boosts';
import { BoostPayer } from '@splitstream/payouts';
import { type JobData, JobProcessor } from '@splitstream/queue';

// Boosts are paid at once, each by its own job, never waiting for the scheduled run.
@Processor(PAY_BOOST.queue)
export class BoostsProcessor extends JobProcessor<JobData<typeof PAY_BOOST>> {
  protected readonly contract = PAY_BOOST;

  constructor(private readonly payer: BoostPayer) {
    super();
  }

  protected handle(data: JobData<typeof PAY_BOOST>): Promise<void> {
    return this.payer.pay(BigInt(data.boostId));
  }
}
