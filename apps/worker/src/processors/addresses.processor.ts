import { Processor } from '@nestjs/bullmq';
import { AddressResolution, RESOLVE_ADDRESSES, type ResolutionReport } from '@splitstream/payouts';
import { type JobData, JobProcessor } from '@splitstream/queue';

// Lightning-address resolution, scheduled and asked for by payout runs; never part of a run.
@Processor(RESOLVE_ADDRESSES.queue)
export class AddressesProcessor extends JobProcessor<JobData<typeof RESOLVE_ADDRESSES>> {
  protected readonly contract = RESOLVE_ADDRESSES;

  constructor(private readonly resolution: AddressResolution) {
    super();
  }

  protected handle(): Promise<ResolutionReport> {
    return this.resolution.resolveDue();
  }
}
