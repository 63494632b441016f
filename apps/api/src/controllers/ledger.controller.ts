import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RequireScope, Scope } from '@splitstream/auth';
import { invariantReportJson, LedgerQueries } from '@splitstream/ledger';

@Controller('v1')
export class LedgerController {
  constructor(private readonly ledger: LedgerQueries) {}

  @Get('summary')
  @RequireScope(Scope.PayoutsRead)
  summary() {
    return this.ledger.summary();
  }

  // The ledger invariant, checked now against the database: 200 when it holds, 500 when it does not.
  @Get('ledger/check')
  @RequireScope(Scope.PayoutsRead)
  async check(@Res({ passthrough: true }) reply: FastifyReply) {
    const report = await this.ledger.checkInvariant();
    if (!report.ok) reply.code(HttpStatus.INTERNAL_SERVER_ERROR);
    return invariantReportJson(report);
  }
}
