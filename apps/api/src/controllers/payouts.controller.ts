import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { type Caller, CurrentCaller, RateBudget, RateLimit, RequireScope, Scope, tenantOf } from '@splitstream/auth';
import { PayoutQueries, PayoutRequests } from '@splitstream/payouts';
import { Cursors } from '../http/cursors.js';
import { booleanFlag, foundById, pageQuery, parseQuery, wholeNumber } from '../http/params.js';

export const payoutListQuery = {
  ...pageQuery,
  empty: booleanFlag
    .optional()
    .describe(
      "false: leave out the runs that had nothing due for the key's app (ended without one of its payments); true: only those (an app key sees them as skipped). Unfinished runs, and failed or interrupted runs without any payment, are never empty",
    ),
};

export const paidPerHourQuery = {
  hours: wholeNumber(1, 24 * 31).default(24),
};

@Controller('v1/payouts')
export class PayoutsController {
  constructor(
    private readonly requests: PayoutRequests,
    private readonly queries: PayoutQueries,
    private readonly cursors: Cursors,
  ) {}

  // 202 and a new run; or, while a run is queued or running (any app's: runs pay every app), 200 and that run.
  @Post('run')
  @HttpCode(HttpStatus.OK)
  @RequireScope(Scope.PayoutsWrite)
  @RateLimit(RateBudget.PayoutRun)
  async run(@Res({ passthrough: true }) reply: FastifyReply) {
    const run = await this.requests.requestManualRun();
    if (run.started) reply.status(HttpStatus.ACCEPTED);
    return {
      id: String(run.id),
      status: run.status,
      started: run.started,
      ...(!run.started && { message: `payout run ${run.id} is already ${run.status}: it pays what a new run would; no other run was started` }),
    };
  }

  @Get()
  @RequireScope(Scope.PayoutsRead)
  async list(@Query() query: unknown, @CurrentCaller() caller: Caller) {
    const { limit, before, empty } = parseQuery(payoutListQuery, query);
    return this.cursors.page(caller, 'payouts', before, (id) => this.queries.list(tenantOf(caller), limit, id, empty));
  }

  // For the dashboard's chart.
  @Get('paid-per-hour')
  @RequireScope(Scope.PayoutsRead)
  paidPerHour(@Query() query: unknown, @CurrentCaller() caller: Caller) {
    return this.queries.paidPerHour(tenantOf(caller), parseQuery(paidPerHourQuery, query).hours);
  }

  @Get(':id')
  @RequireScope(Scope.PayoutsRead)
  async get(@Param('id') id: string, @CurrentCaller() caller: Caller) {
    return foundById('payout', id, (payoutId) => this.queries.get(tenantOf(caller), payoutId));
  }
}
