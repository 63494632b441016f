import { Module } from '@nestjs/common';
import { LedgerModule } from '@splitstream/ledger';
import { LnaddressModule } from '@splitstream/lnaddress';
import { PaymentsModule } from '@splitstream/payments';
import { AddressResolution } from './addresses/address-resolution.service.js';
import { AddressStore } from './addresses/address-store.js';
import { BoostPayer } from './boosts/boost-payer.service.js';
import { BoostPlanner } from './boosts/boost-planner.js';
import { DomainBreakers } from './addresses/domain-breakers.js';
import { PaymentVerdicts } from './payment-verdicts.service.js';
import { PayoutQueries } from './payout-queries.service.js';
import { PayoutRequests } from './payout-requests.service.js';
import { ReconcileRequests } from './reconcile-requests.service.js';
import { Reconciliation } from './reconciliation.service.js';
import { LightningAddresses } from './run/lightning-addresses.js';
import { PayoutRunner } from './run/payout-runner.service.js';
import { RecipientsService } from './recipients.service.js';
import { StatementsService } from './statements.service.js';
import { PayoutStore } from './store/payout-store.js';
import { RecipientStore } from './store/recipient-store.js';
import { Locks } from './store/session-lock.js';

// What the api needs: reads, starting runs, operators' verdicts, asking the worker to reconcile. No wallet.
@Module({
  imports: [LedgerModule, PaymentsModule],
  providers: [PayoutRequests, PayoutQueries, RecipientsService, StatementsService, PaymentVerdicts, ReconcileRequests, Locks],
  exports: [PayoutRequests, PayoutQueries, RecipientsService, StatementsService, PaymentVerdicts, ReconcileRequests],
})
export class PayoutsModule {}

// Looking unknown payments up in the wallet (the global WalletModule): the worker's, and the operator's CLI.
@Module({
  imports: [PaymentsModule],
  providers: [PayoutStore, RecipientStore, Locks, Reconciliation],
  exports: [PayoutStore, RecipientStore, Locks, Reconciliation],
})
export class ReconciliationModule {}

// The worker's side, which pays: payout runs (with Lightning-address invoices), Lightning-address resolution and
// reconciliation.
@Module({
  imports: [PayoutsModule, PaymentsModule, ReconciliationModule, LnaddressModule],
  providers: [PayoutRunner, LightningAddresses, AddressStore, DomainBreakers, AddressResolution, BoostPlanner, BoostPayer],
  exports: [PayoutRunner, AddressResolution, BoostPayer, ReconciliationModule, PayoutsModule],
})
export class PayoutRunnerModule {}
