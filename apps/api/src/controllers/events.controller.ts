import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { type Caller, CurrentCaller, RateBudget, RateLimit, RequireScope, Scope, tenantOf } from '@splitstream/auth';
import { batchRefusal, IngestionService, type IngestResult } from '@splitstream/ingestion';
import { LedgerQueries } from '@splitstream/ledger';
import { MetricsService } from '@splitstream/observability';
import { PayoutQueries } from '@splitstream/payouts';
import { AppError, ErrorCode } from '@splitstream/errors';
import { parseQuery } from '../http/params.js';

// Event ids are per app: an admin key reads another app's event by naming it (`app`); an app key only its own.
export const eventQuery = { app: z.string().min(1).max(200).optional() };

@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly ledger: LedgerQueries,
    private readonly payouts: PayoutQueries,
    private readonly metrics: MetricsService,
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

  @Get(':id')
  @RequireScope(Scope.PayoutsRead)
  async get(@Param('id') id: string, @Query() query: unknown, @CurrentCaller() caller: Caller) {
    const { app = caller.app } = parseQuery(eventQuery, query);
    if (app !== caller.app && tenantOf(caller) !== null) throw new AppError(ErrorCode.Forbidden, "an app key reads only its own app's events: leave out app");
    const event = await this.ledger.event(app, id);
    if (!event) throw AppError.notFound(`event ${id}`);
    return { ...event.view, keysends: await this.payouts.keysendsOfEvent(event.dbId) };
  }
}
