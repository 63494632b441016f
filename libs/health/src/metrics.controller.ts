import { Controller, Get, Header } from '@nestjs/common';
import { PublicRoute } from '@splitstream/auth';
import { MetricsService } from '@splitstream/observability';

// Prometheus scrape endpoint (the series are libs/observability's registry). Unauthenticated, like /health:
// expose it to the monitoring network only.
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
