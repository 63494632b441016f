export { feedDocumentOf, podcastIndexDocumentOf, type FeedDocument, type RawValueBlock } from './feed-document.js';
export { FeedSources, SourceFailure, type ReadSource } from './feed-sources.js';
export { FeedsModule } from './feeds.module.js';
export { remoteSegments, type RemoteSplit } from './remote-segments.js';
export { type RetryFilter, ValueResolution } from './value-resolution.service.js';
export { type BlockOrigin, type ResolvedValue, ValueBlockResolver, type ValueReference, type ValueSource } from './value-resolver.service.js';
export { RESOLVE_BOOST, RESOLVE_EVENTS } from './jobs.js';
