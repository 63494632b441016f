import { Controller, Get, Param } from '@nestjs/common';
import { type Caller, CurrentCaller, RequireScope, Scope, tenantOf } from '@splitstream/auth';
import { AppError } from '@splitstream/errors';
import { StatementsService } from '@splitstream/payouts';

@Controller('v1/feeds')
export class FeedsController {
  constructor(private readonly statements: StatementsService) {}

  // A show (podcast:guid): accrued, paid and owed per recipient.
  @Get(':feedGuid/summary')
  @RequireScope(Scope.PayoutsRead)
  async summary(@Param('feedGuid') feedGuid: string, @CurrentCaller() caller: Caller) {
    const summary = await this.statements.feedSummary(tenantOf(caller), feedGuid);
    if (!summary) throw AppError.notFound(`feed ${feedGuid}`);
    return summary;
  }
}
