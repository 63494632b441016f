export { IngestionModule } from './ingestion.module.js';
export {
  batchRefusal,
  EVENT_REJECTION_CODES,
  type EventRejectionCode,
  type EventResult,
  EVENT_VERDICTS,
  type EventVerdict,
  IngestionService,
  type IngestResult,
} from './ingestion.service.js';
export {
  appsOwnId,
  episodeFields,
  feedUrlProblem,
  ingestRequestSchema,
  listenerIdSchema,
  listeningEventSchema,
  MAX_EVENTS_PER_REQUEST,
  type ListeningEvent,
} from './listening-event.schema.js';
