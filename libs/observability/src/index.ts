export { fastifyLogging, LoggingModule, redactUrl } from './logging.module.js';
export { MetricsModule } from './metrics.module.js';
export { MetricsService } from './metrics.service.js';
