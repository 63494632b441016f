import { Controller, Get, Headers, HttpException, Logger, Res } from '@nestjs/common';
import { ApiKeysService, callerOf, PublicRoute, Scope } from '@splitstream/auth';
import { HealthCheck, HealthCheckService, PrismaHealthIndicator } from '@nestjs/terminus';
import { ErrorCode, errorBody } from '@splitstream/errors';
import { PrismaService } from '@splitstream/persistence';
import type { FastifyReply } from 'fastify';
import { RedisHealthIndicator } from './redis.health.js';
import { WalletHealth } from './wallet-health.js';

// The key check must not hold a probe up (PostgreSQL slow or away): past this, the caller is not an admin.
const KEY_CHECK_TIMEOUT_MS = 2_000;
const RETRY_AFTER_SECONDS = 5;

// 200 when PostgreSQL and Redis answer and the wallet accepts our credentials; 503 otherwise. Publicly (no key,
// an invalid key, or a key without the admin scope) only that: {status: "ok"} or {status: "error"} in the one
// error shape. With an admin key (Authorization: Bearer <key>, scope admin) the whole report: what fails (503
// naming it; `degraded` when only the wallet does) and `details.wallet` with the wallet's reachability and
// balance, on the worker from the wallet itself, on the api from the worker's latest report (`state: "unknown"`
// when no worker reported recently, which is not down by itself). The key is checked in PostgreSQL: while the
// database cannot be reached, an admin gets the public answer too.
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    private readonly health: HealthCheckService,
    private readonly prismaIndicator: PrismaHealthIndicator,
    private readonly prisma: PrismaService,
    private readonly redis: RedisHealthIndicator,
    private readonly wallet: WalletHealth,
    private readonly keys: ApiKeysService,
  ) {}

  @Get()
  @PublicRoute()
  @HealthCheck()
  async check(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const [admin, report] = await Promise.all([
      this.isAdmin(authorization),
      this.health
        .check([
          () => this.prismaIndicator.pingCheck('postgres', this.prisma, { timeout: 2_000 }),
          () => this.redis.isHealthy('redis'),
          () => this.wallet.isHealthy('wallet'),
        ])
        .catch((error: unknown) => error),
    ]);
    if (!(report instanceof Error)) return admin ? report : { status: 'ok' };
    if (admin || !(report instanceof HttpException)) throw report; // the whole report, through the error filter
    const down = Object.keys((report.getResponse() as { error?: object }).error ?? {});
    this.logger.warn(`/health answered 503: ${down.join(' and ') || 'a check'} failed`);
    void reply.code(report.getStatus()).header('Retry-After', String(RETRY_AFTER_SECONDS));
    return errorBody(ErrorCode.ServiceUnavailable, 'the service is not healthy; details need an admin key', undefined, { status: 'error' });
  }

  // Only a valid, unrevoked key with the admin scope; anything else (no key, a bad one, the database away) is not.
  private async isAdmin(authorization: string | undefined): Promise<boolean> {
    if (!authorization) return false;
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), KEY_CHECK_TIMEOUT_MS).unref());
    const caller = await Promise.race([callerOf(this.keys, authorization, true).catch(() => null), timeout]);
    return caller?.scopes.includes(Scope.Admin) ?? false;
  }
}
