export { apportion, Fraction } from './fraction.js';
export {
  MAX_RECIPIENTS,
  MAX_TIME_SPLITS,
  parseValueBlock,
  recipientIdentity,
  recipientSchema,
  timeSplitSchema,
  toIssues,
  formatPath,
  valueBlockSchema,
  type ParseResult,
  type TimeSplit,
  type ValidationIssue,
  type ValueBlock,
  type ValueBlockInput,
  type ValueRecipient,
} from './value-block.js';
export { eventAmountMsat, splitListening, type Allocation, type Listening } from './split.js';
export {
  BLIP10_MAX_BYTES,
  TLV_KEYSEND_PREIMAGE,
  TLV_PODCAST_METADATA,
  blip10Metadata,
  buildCustomRecords,
  truncateUtf8,
  type KeysendContext,
} from './blip10.js';
