import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RequireScope, Scope } from '@splitstream/auth';
import { AppError, ErrorCode } from '@splitstream/errors';
import { invariantReportJson, LedgerQueries } from '@splitstream/ledger';

@Controller('v1')
export class LedgerController {
  constructor(private readonly ledger: LedgerQueries) {}

  @Get('summary')
  @RequireScope(Scope.PayoutsRead)
  summary() {
    return this.ledger.summary();
  }

  // The ledger invariant, checked now against the database: 200 with the report when it holds; when it does
  // not, 500 in the one error shape with the report beside it.
  @Get('ledger/check')
  @RequireScope(Scope.PayoutsRead)
  async check(@Res({ passthrough: true }) reply: FastifyReply) {
    const report = invariantReportJson(await this.ledger.checkInvariant());
    if (report.ok) return report;
    const broken = new AppError(ErrorCode.InvariantBroken, report.problems.join('; '));
    reply.code(broken.status);
    return { ...broken.body(), ...report };
  }
}
