export { PayoutQueries, type KeysendView } from './payout-queries.service.js';
export { PayoutRequests } from './payout-requests.service.js';
export { PayoutRunner } from './run/payout-runner.service.js';
export { retryDelaySeconds } from './run/record.js';
export { RecipientsService } from './recipients.service.js';
export { PayoutRunnerModule, PayoutsModule, ReconciliationModule } from './payouts.module.js';
export { KeysendResolutions, type Resolution, type ResolutionResult } from './keysend-resolutions.service.js';
export { Reconciliation, type ReconcileReport } from './reconciliation.service.js';
export { RECONCILE, RUN_PAYOUT } from './jobs.js';
