export { type BoostRequest, boostSchema, MAX_BOOST_MESSAGE_CHARACTERS } from './boost.schema.js';
export { BOOST_STATUSES, type BoostFilter, BoostQueries, type BoostStatus, type BoostSummary, type BoostView } from './boost-queries.service.js';
export { type BoostReceipt, BoostsService, type BoostVerdict } from './boosts.service.js';
export { BoostValues } from './boost-values.service.js';
export { BoostsModule, BoostValuesModule } from './boosts.module.js';
export { PAY_BOOSTS } from './jobs.js';
