import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { LightningAddresses } from '../run/lightning-addresses.js';
import { PayoutRunner } from '../run/payout-runner.service.js';
import { PayoutStore } from '../store/payout-store.js';

// Why a PAY_BOOSTS job ends unfinished and is retried (BullMQ backoff), or left to the worker's sweep: boost shares
// are still owed to payable recipients while another worker's run holds the payout lock.
export class BoostOwedError extends Error {
  override name = 'BoostOwedError';
}

// Pays due boosts at once, in the worker, apart from the schedule (PAY_BOOSTS): a boost run (trigger `boost`) takes
// the payout lock and pays every app's due boosts in rounds, apps in turn, until none is left or a scheduled or
// manual run is queued (that run goes first; the job is retried after it). Under the one lock, so recording,
// retries, recovery and reconciliation are a run's.
@Injectable()
export class BoostPayer {
  constructor(
    private readonly runner: PayoutRunner,
    private readonly store: PayoutStore,
    private readonly addresses: LightningAddresses,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // A share owed to a Lightning address without a fresh route asks for its resolution; the sweep pays it once the
  // route is there. Throws (the job is retried) while payable shares are left: the lock was held by another run, or
  // boosts arrived after the run's last round.
  async payDue(): Promise<void> {
    const owed = await this.store.boostsOwed(this.addresses.fingerprint);
    if (owed.unrouted) await this.addresses.requestResolution();
    if (!owed.payable) return;
    if (!(await this.store.streamRunActive(this.config.PAYOUT_HEARTBEAT_TIMEOUT_SECONDS))) await this.runner.runBoosts();
    if ((await this.store.boostsOwed(this.addresses.fingerprint)).payable)
      throw new BoostOwedError('boost shares are still owed to payable recipients (another run held the payout lock, or more arrived); retried');
  }
}
