import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { type Caller, CurrentCaller, RateBudget, RateLimit, RequireScope, Scope, tenantOf } from '@splitstream/auth';
import { ValueResolution } from '@splitstream/feeds';
import { batchRefusal, IngestionService, type IngestResult } from '@splitstream/ingestion';
import { EVENT_STATUSES, LedgerQueries } from '@splitstream/ledger';
import { MetricsService } from '@splitstream/observability';
import { PayoutQueries } from '@splitstream/payouts';
import { TenantsService } from '@splitstream/tenants';
import { AppError, ErrorCode } from '@splitstream/errors';
import { strictObject, toIssues } from '@splitstream/money';
import { Cursors } from '../http/cursors.js';
import { pageQuery, parseQuery, queryText, timestamp } from '../http/params.js';
import { listedTenant, readApp } from '../http/tenancy.js';

// Event ids are per app: an admin key reads another app's event by naming it (`app`); an app key only its own.
export const eventQuery = { app: queryText(200).optional() };

// GET /v1/events: an app key lists its own app's events; an admin key every app's, or one app's with `app`.
export const eventListQuery = {
  ...pageQuery,
  ...eventQuery,
  feedGuid: queryText(256).optional(),
  itemGuid: queryText(256).optional(),
  status: z.enum(EVENT_STATUSES, { error: `must be one of ${EVENT_STATUSES.join(', ')}` }).optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
};

// POST /v1/events/retry: which set-aside events to apply again (all of the caller's when none is given).
export const eventRetrySchema = strictObject({
  app: queryText(200).optional().describe("an admin key's filter: one app's events (an app key retries only its own)"),
  feedGuid: queryText(256).optional(),
  itemGuid: queryText(256).optional(),
  feedUrl: queryText(2048).optional(),
  since: timestamp.optional().describe('received at or after'),
  until: timestamp.optional().describe('received before'),
});

@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly ledger: LedgerQueries,
    private readonly payouts: PayoutQueries,
    private readonly metrics: MetricsService,
    private readonly cursors: Cursors,
    private readonly tenants: TenantsService,
    private readonly resolution: ValueResolution,
  ) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @RequireScope(Scope.EventsWrite)
  @RateLimit(RateBudget.Events)
  async ingest(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<IngestResult> {
    // Event ids are idempotent per app: the API key's app.
    const result = await this.ingestion.ingest(caller.app, body);
    this.metrics.eventsAccepted.inc(result.accepted);
    this.metrics.eventsDuplicate.inc(result.duplicates);
    this.metrics.eventsConflict.inc(result.conflicts);
    this.metrics.eventsRejected.inc(result.rejected);
    const refusal = batchRefusal(result);
    if (refusal) throw refusal;
    return result;
  }

  // After a feed was fixed: its set-aside events are applied again (an admin's retry also reads their feeds again at
  // once; an app's resets only its events' item failures, not a feed's backoff every app shares).
  @Post('retry')
  @HttpCode(HttpStatus.ACCEPTED)
  @RequireScope(Scope.EventsWrite)
  @RateLimit(RateBudget.EventRetry)
  async retry(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<{ retried: number; boostsRetried: number }> {
    const parsed = eventRetrySchema.safeParse(body ?? {});
    if (!parsed.success) throw AppError.validation(toIssues(parsed.error), 'the request is invalid; nothing was retried');
    const { app, ...filter } = parsed.data;
    const tenant = tenantOf(caller);
    if (app !== undefined && tenant !== null && app !== tenant)
      throw new AppError(ErrorCode.Forbidden, "an app key retries only its own app's events: leave out app");
    if (app !== undefined && tenant === null) await this.tenants.requireApp(app);
    return this.resolution.retry({ ...filter, tenant: app ?? tenant, byAdmin: tenant === null });
  }

  // Newest first, each a summary; GET /v1/events/:id (its href) has its allocations and keysends.
  @Get()
  @RequireScope(Scope.PayoutsRead)
  async list(@Query() query: unknown, @CurrentCaller() caller: Caller) {
    const { app, before, ...filter } = parseQuery(eventListQuery, query);
    const tenant = await listedTenant(caller, app, 'events', this.tenants);
    return this.cursors.page(caller, 'events', before, (id) => this.ledger.events({ ...filter, before: id, tenant }));
  }

  @Get(':id')
  @RequireScope(Scope.PayoutsRead)
  async get(@Param('id') id: string, @Query() query: unknown, @CurrentCaller() caller: Caller) {
    const { app: named } = parseQuery(eventQuery, query);
    const app = await readApp(caller, named, 'events', this.tenants);
    const event = await this.ledger.event(app, id);
    if (!event) throw AppError.notFound(`event ${id}`);
    return { ...event.view, keysends: await this.payouts.keysendsOfEvent(event.dbId) };
  }
}
