import { Controller, Get, Header } from '@nestjs/common';
import { PublicRoute } from '@splitstream/auth';
import { MetricsService } from './metrics.service.js';

// Prometheus scrape endpoint. Unauthenticated, like /health: expose it to the monitoring network only.
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @PublicRoute()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
