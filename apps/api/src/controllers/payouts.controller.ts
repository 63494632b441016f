import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { RequireScope, Scope } from '@splitstream/auth';
import { toIssues } from '@splitstream/money';
import { PayoutQueries, PayoutRequests } from '@splitstream/payouts';
import { AppError, ErrorCode } from '@splitstream/errors';
import { DATABASE_ID } from '../http/params.js';

const idParam = z.string().regex(DATABASE_ID, 'must be a payout id');
export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: idParam.optional(),
});

@Controller('v1/payouts')
export class PayoutsController {
  constructor(
    private readonly requests: PayoutRequests,
    private readonly queries: PayoutQueries,
  ) {}

  @Post('run')
  @HttpCode(HttpStatus.ACCEPTED)
  @RequireScope(Scope.PayoutsWrite)
  async run() {
    return { id: String(await this.requests.requestManualRun()) };
  }

  @Get()
  @RequireScope(Scope.PayoutsRead)
  async list(@Query() query: unknown) {
    const parsed = listQuery.safeParse(query);
    if (!parsed.success) throw AppError.validation(toIssues(parsed.error));
    return this.queries.list(parsed.data.limit, parsed.data.before === undefined ? undefined : BigInt(parsed.data.before));
  }

  @Get(':id')
  @RequireScope(Scope.PayoutsRead)
  async get(@Param('id') id: string) {
    if (!idParam.safeParse(id).success) throw AppError.notFound(`payout ${id}`);
    const payout = await this.queries.get(BigInt(id));
    if (!payout) throw AppError.notFound(`payout ${id}`);
    return payout;
  }
}
