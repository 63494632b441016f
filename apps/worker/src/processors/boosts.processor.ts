import { Processor } from '@nestjs/bullmq';
import { BoostValues, PAY_BOOSTS } from '@splitstream/boosts';
import { RESOLVE_BOOST } from '@splitstream/feeds';
import { BoostPayer } from '@splitstream/payouts';
import { type JobData, JobProcessor } from '@splitstream/queue';

// Boosts are paid at once, never waiting for the scheduled run: any job pays every app's due boosts.
@Processor(PAY_BOOSTS.queue)
export class BoostsProcessor extends JobProcessor<JobData<typeof PAY_BOOSTS>> {
  protected readonly contract = PAY_BOOSTS;

  constructor(private readonly payer: BoostPayer) {
    super();
  }

  protected handle(): Promise<void> {
    return this.payer.payDue();
  }
}

// Boosts sent by reference have their block found on a queue of their own, a few at once (a slow feed never holds
// up paying).
@Processor(RESOLVE_BOOST.queue, { concurrency: 4 })
export class BoostValuesProcessor extends JobProcessor<JobData<typeof RESOLVE_BOOST>> {
  protected readonly contract = RESOLVE_BOOST;

  constructor(private readonly values: BoostValues) {
    super();
  }

  protected handle(data: JobData<typeof RESOLVE_BOOST>): Promise<void> {
    return this.values.resolve(BigInt(data.boostId));
  }
}
