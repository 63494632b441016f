import { Injectable } from '@nestjs/common';
import { LightningAddresses } from '../run/lightning-addresses.js';
import { PayoutRunner } from '../run/payout-runner.service.js';
import { PayoutStore } from '../store/payout-store.js';

// Why a PAY_BOOSTS job ends unfinished and is retried (BullMQ backoff), or left to the worker's sweep: boost shares
// are still owed to payable recipients while another worker's run holds the payout lock.
export class BoostOwedError extends Error {
  override name = 'BoostOwedError';
}

// Pays due boosts at once, in the worker, apart from the schedule (PAY_BOOSTS): a scheduled or manual run already
// queued or running pays them between its chunks; otherwise a boost run of its own (trigger `boost`) takes the
// payout lock and pays every app's due boosts, apps in turn, until none is left or a scheduled run waits for the
// lock. Under the one lock, so recording, retries, recovery and reconciliation are a run's.
@Injectable()
export class BoostPayer {
  constructor(
    private readonly runner: PayoutRunner,
    private readonly store: PayoutStore,
    private readonly addresses: LightningAddresses,
  ) {}

  // A share owed to a Lightning address without a fresh route asks for its resolution and keeps the job retrying
  // until the route is there (or the sweep asks again).
  async payDue(): Promise<void> {
    const owed = await this.store.boostsOwed(this.addresses.fingerprint);
    if (owed.unrouted) await this.addresses.requestResolution();
    if (owed.payable && !(await this.store.streamRunActive()) && (await this.runner.runBoosts())) return;
    if (owed.payable) throw new BoostOwedError('boost shares are owed while another run holds the payout lock; retried');
    if (owed.unrouted) throw new BoostOwedError('boost shares wait for their Lightning addresses to be resolved; retried');
  }
}
