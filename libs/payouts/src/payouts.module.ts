import { Module } from '@nestjs/common';
import { LedgerModule } from '@splitstream/ledger';
import { KeysendResolutions } from './keysend-resolutions.service.js';
import { PayoutQueries } from './payout-queries.service.js';
import { PayoutRequests } from './payout-requests.service.js';
import { PayoutRunner } from './run/payout-runner.service.js';
import { RecipientsService } from './recipients.service.js';

// PayoutRunner needs the wallet (WalletModule), which only the worker imports.
@Module({
  imports: [LedgerModule],
  providers: [PayoutRequests, PayoutQueries, RecipientsService, KeysendResolutions],
  exports: [PayoutRequests, PayoutQueries, RecipientsService, KeysendResolutions],
})
export class PayoutsModule {}

@Module({ imports: [PayoutsModule], providers: [PayoutRunner], exports: [PayoutRunner, PayoutsModule] })
export class PayoutRunnerModule {}
