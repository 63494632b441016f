import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';

// The registry and its counters, for every module of the process. GET /metrics is libs/health's MetricsServer, on an internal port.
@Global()
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
