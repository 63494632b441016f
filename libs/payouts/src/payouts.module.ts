import { Module } from '@nestjs/common';
import { LedgerModule } from '@splitstream/ledger';
import { LnaddressModule } from '@splitstream/lnaddress';
import { KeysendResolutions } from './keysend-resolutions.service.js';
import { PayoutQueries } from './payout-queries.service.js';
import { PayoutRequests } from './payout-requests.service.js';
import { Reconciliation } from './reconciliation.service.js';
import { LightningAddresses } from './run/lightning-addresses.js';
import { PayoutRunner } from './run/payout-runner.service.js';
import { RecipientsService } from './recipients.service.js';
import { StatementsService } from './statements.service.js';

// Settling unknown keysends (operator resolution, reconciliation). Needs the wallet (the global WalletModule).
@Module({ providers: [KeysendResolutions, Reconciliation], exports: [KeysendResolutions, Reconciliation] })
export class ReconciliationModule {}

@Module({
  imports: [LedgerModule, ReconciliationModule],
  providers: [PayoutRequests, PayoutQueries, RecipientsService, StatementsService],
  exports: [PayoutRequests, PayoutQueries, RecipientsService, StatementsService, ReconciliationModule],
})
export class PayoutsModule {}

// Payout runs, in the worker: they also resolve Lightning Addresses and fetch their invoices.
@Module({ imports: [PayoutsModule, LnaddressModule], providers: [PayoutRunner, LightningAddresses], exports: [PayoutRunner, PayoutsModule] })
export class PayoutRunnerModule {}
