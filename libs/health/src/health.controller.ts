import { Controller, Get } from '@nestjs/common';
import { PublicRoute } from '@splitstream/auth';
import { HealthCheck, HealthCheckService, PrismaHealthIndicator } from '@nestjs/terminus';
import { PrismaService } from '@splitstream/persistence';
import { RedisHealthIndicator } from './redis.health.js';

// 200 when PostgreSQL and Redis both answer; 503 with the failing one under `error` otherwise.
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly prismaIndicator: PrismaHealthIndicator,
    private readonly prisma: PrismaService,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get()
  @PublicRoute()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.prismaIndicator.pingCheck('postgres', this.prisma, { timeout: 2_000 }),
      () => this.redis.isHealthy('redis'),
    ]);
  }
}
