export { fastifyLogging, LoggingModule, redactUrl } from './logging.module.js';
export { MetricsModule } from './metrics.module.js';
export { type IngestGroupPath, METRICS_PROCESS, type MetricsProcess, MetricsService } from './metrics.service.js';
