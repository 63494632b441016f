import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { type Caller, CurrentCaller, RateBudget, RateLimit, RequireScope, Scope } from '@splitstream/auth';
import { type BoostReceipt, BoostQueries, BoostsService } from '@splitstream/boosts';
import { AppError } from '@splitstream/errors';
import { TenantsService } from '@splitstream/tenants';
import { Cursors } from '../http/cursors.js';
import { pageQuery, parseQuery, queryText, timestamp } from '../http/params.js';
import { listedTenant, readApp } from '../http/tenancy.js';
import { eventQuery } from './events.controller.js';

// GET /v1/boosts: an app key lists its own app's boosts; an admin key every app's, or one app's with `app`.
export const boostListQuery = {
  ...pageQuery,
  ...eventQuery,
  feedGuid: queryText(256).optional(),
  itemGuid: queryText(256).optional(),
  recipient: queryText(320).optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
};

@Controller('v1/boosts')
export class BoostsController {
  constructor(
    private readonly boosts: BoostsService,
    private readonly queries: BoostQueries,
    private readonly cursors: Cursors,
    private readonly tenants: TenantsService,
  ) {}

  // 202: stored and handed to its own job, which pays it within seconds (GET its id for each share's payments).
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @RequireScope(Scope.EventsWrite)
  @RateLimit(RateBudget.Events)
  submit(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<BoostReceipt> {
    return this.boosts.submit(caller.app, body);
  }

  @Get()
  @RequireScope(Scope.PayoutsRead)
  async list(@Query() query: unknown, @CurrentCaller() caller: Caller) {
    const { app, before, ...filter } = parseQuery(boostListQuery, query);
    const tenant = await listedTenant(caller, app, 'boosts', this.tenants);
    return this.cursors.page(caller, 'boosts', before, (id) => this.queries.boosts({ ...filter, before: id, tenant }));
  }

  @Get(':id')
  @RequireScope(Scope.PayoutsRead)
  async get(@Param('id') id: string, @Query() query: unknown, @CurrentCaller() caller: Caller) {
    const { app: named } = parseQuery(eventQuery, query);
    const app = await readApp(caller, named, 'boosts', this.tenants);
    const boost = await this.queries.boost(app, id);
    if (!boost) throw AppError.notFound(`boost ${id}`);
    return boost;
  }
}
