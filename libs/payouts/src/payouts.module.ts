import { Module } from '@nestjs/common';
import { LedgerModule } from '@splitstream/ledger';
import { KeysendResolutions } from './keysend-resolutions.service.js';
import { PayoutQueries } from './payout-queries.service.js';
import { PayoutRequests } from './payout-requests.service.js';
import { Reconciliation } from './reconciliation.service.js';
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

@Module({ imports: [PayoutsModule], providers: [PayoutRunner], exports: [PayoutRunner, PayoutsModule] })
export class PayoutRunnerModule {}
