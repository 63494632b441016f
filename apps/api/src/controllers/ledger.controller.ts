import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { type Caller, CurrentCaller, RequireScope, Scope, tenantOf } from '@splitstream/auth';
import { AppError, ErrorCode } from '@splitstream/errors';
import { invariantReportJson, LedgerQueries } from '@splitstream/ledger';

@Controller('v1')
export class LedgerController {
  constructor(private readonly ledger: LedgerQueries) {}

  @Get('summary')
  @RequireScope(Scope.PayoutsRead)
  summary(@CurrentCaller() caller: Caller) {
    return this.ledger.summary(tenantOf(caller));
  }

  // The ledger invariant, checked now against the database: 200 with the report when it holds; when it does
  // not, 500 in the one error shape with the report beside it. Every app's money: for operators (admin).
  @Get('ledger/check')
  @RequireScope(Scope.Admin)
  async check(@Res({ passthrough: true }) reply: FastifyReply) {
    const report = invariantReportJson(await this.ledger.checkInvariant());
    if (report.ok) return report;
    const broken = new AppError(ErrorCode.InvariantBroken, report.problems.join('; '));
    reply.code(broken.status);
    return { ...broken.body(), ...report };
  }
}
