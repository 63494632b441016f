import { Controller, Get } from '@nestjs/common';
import { PublicRoute } from '@splitstream/auth';
import { HealthCheck, HealthCheckService, PrismaHealthIndicator } from '@nestjs/terminus';
import { PrismaService } from '@splitstream/persistence';
import { RedisHealthIndicator } from './redis.health.js';
import { WalletHealth } from './wallet-health.js';

// 200 when PostgreSQL and Redis answer and the wallet accepts our credentials; 503 naming what fails otherwise
// (`degraded` when only the wallet does). The wallet's reachability and balance are shown under `details.wallet`:
// on the worker from the wallet itself, on the api from the worker's latest report (`state: "unknown"` when no
// worker reported recently, which is not down by itself).
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly prismaIndicator: PrismaHealthIndicator,
    private readonly prisma: PrismaService,
    private readonly redis: RedisHealthIndicator,
    private readonly wallet: WalletHealth,
  ) {}

  @Get()
  @PublicRoute()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.prismaIndicator.pingCheck('postgres', this.prisma, { timeout: 2_000 }),
      () => this.redis.isHealthy('redis'),
      () => this.wallet.isHealthy('wallet'),
    ]);
  }
}
