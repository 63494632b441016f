import { type DynamicModule, Global, Module } from '@nestjs/common';
import { METRICS_PROCESS, type MetricsProcess, MetricsService } from './metrics.service.js';

// The registry and its counters, for every module of the process. GET /metrics is libs/health's MetricsServer, on an internal port.
@Global()
@Module({})
export class MetricsModule {
  static forProcess(process: MetricsProcess): DynamicModule {
    return {
      module: MetricsModule,
      providers: [{ provide: METRICS_PROCESS, useValue: process }, MetricsService],
      exports: [MetricsService],
    };
  }
}
