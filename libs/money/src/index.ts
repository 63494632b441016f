export { apportion, DECIMAL_PLACES, hasBoundedDecimals, microUnits, Ratio } from './fraction.js';
export { strictObject, withSuggestionBudget } from './strict-object.js';
export {
  customKeyProblem,
  MAX_CUSTOM_KEY,
  MAX_CUSTOM_VALUE_BYTES,
  MAX_ADDRESS_RECIPIENTS,
  MAX_BLOCK_RECIPIENTS,
  MAX_RECIPIENTS,
  MAX_SPLIT,
  SPLIT_RULE,
  MAX_TIME_SPLITS,
  MIN_CUSTOM_KEY,
  parseValueBlock,
  recipientIdentity,
  recipientTypeOf,
  type RecipientType,
  recipientSchema,
  timeSplitSchema,
  toIssues,
  formatPath,
  valueBlockSchema,
  sentPath,
  type ParseResult,
  type TimeSplit,
  type ValidationIssue,
  type ValueBlock,
  type ValueBlockInput,
  type ValueRecipient,
} from './value-block.js';
export { eventAmountMsat, exactShares, splitListening, type Allocation, type ExactShare, type Listening } from './split.js';
export {
  BLIP10_MAX_BYTES,
  Blip10TooLargeError,
  TLV_KEYSEND_PREIMAGE,
  TLV_PODCAST_METADATA,
  blip10Metadata,
  blip10Summary,
  buildCustomRecords,
  minimalBlip10Bytes,
  truncateUtf8,
  type Blip10Identifiers,
  type BoostFields,
  type KeysendContext,
} from './blip10.js';
export { isNodePubkey } from './node-key.js';
export { isLightningAddress, lightningAddressProblem, parseLightningAddress, type LightningAddress } from './lightning-address.js';
export { paymentHashOf } from './payment-hash.js';
export { feeSatsFromMsat, MSAT_DECIMAL, MSAT_PER_SAT, msatForWallet, satsForWallet, satsToMsat, splitWholeSats, wholeMilliseconds } from './units.js';
