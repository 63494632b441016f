export { IngestionModule } from './ingestion.module.js';
export { IngestionService, type IngestResult, type IngestValidation } from './ingestion.service.js';
export { ingestRequestSchema, listeningEventSchema, MAX_EVENTS_PER_REQUEST, type ListeningEvent } from './listening-event.schema.js';
