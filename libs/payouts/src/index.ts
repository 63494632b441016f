export { PayoutQueries, type KeysendView } from './payout-queries.service.js';
export { PayoutRequests } from './payout-requests.service.js';
export { KeysendStatus } from './keysend-ledger.js';
export { PayoutRunner, PayoutStatus, retryDelaySeconds } from './payout-runner.service.js';
export { RecipientsService } from './recipients.service.js';
export { PayoutRunnerModule, PayoutsModule } from './payouts.module.js';
export { KeysendResolutions, type Resolution, type ResolutionResult } from './keysend-resolutions.service.js';
