import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { AppError, ErrorCode, type FieldIssue } from '@splitstream/errors';
import { eventAmountMsat, MSAT_PER_SAT, toIssues, type ValidationIssue } from '@splitstream/money';
import { PrismaService } from '@splitstream/persistence';
import { capBreachError, capBreachOf, capPeriods, type CapPeriods, TenantsService } from '@splitstream/tenants';
import { APPLY_EVENTS, type ListeningPayload } from '@splitstream/ledger';
import { JobQueue } from '@splitstream/queue';
import { ingestRequestSchema, type ListeningEvent, listeningEventSchema } from './listening-event.schema.js';

export type IngestValidation = { ok: true; events: ListeningEvent[] } | { ok: false; issues: ValidationIssue[] };

export interface IngestResult {
  accepted: number;
  duplicates: number;
  events: { id: string; status: 'accepted' | 'duplicate' }[];
}

interface StoredRow {
  id: bigint;
  event_id: string;
}

// The events that break a rule, each with its index, path and reason.
const offending = (events: ListeningEvent[], problem: (event: ListeningEvent) => [string, string] | undefined): FieldIssue[] =>
  events.flatMap((event, index) => {
    const found = problem(event);
    return found ? [{ index, path: `events[${index}].${found[0]}`, message: found[1] }] : [];
  });

@Injectable()
export class IngestionService {
  private readonly logger = new Logger(IngestionService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly jobs: JobQueue,
    private readonly tenants: TenantsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // The whole request is validated before anything is stored: one bad event rejects all of them.
  validate(body: unknown): IngestValidation {
    const envelope = ingestRequestSchema.safeParse(body);
    if (!envelope.success) return { ok: false, issues: toIssues(envelope.error) };
    const events: ListeningEvent[] = [];
    const issues: ValidationIssue[] = [];
    envelope.data.events.forEach((raw, index) => {
      const parsed = listeningEventSchema.safeParse(raw);
      if (parsed.success) events.push(parsed.data);
      else issues.push(...toIssues(parsed.error, ['events', index]));
    });
    return issues.length ? { ok: false, issues } : { ok: true, events };
  }

  // Stores the events (PostgreSQL is the durable queue of record), then asks the worker to apply them. An event
  // id counts once per app, ever: the unique (app_id, event_id) index decides, also between api instances.
  async ingest(appId: string, events: ListeningEvent[], now = new Date()): Promise<IngestResult> {
    const firstOfId = new Map<string, ListeningEvent>();
    for (const event of events) if (!firstOfId.has(event.id)) firstOfId.set(event.id, event);
    const unique = [...firstOfId.values()];
    const amounts = unique.map((e) => eventAmountMsat(e.satsPerMinute, e.seconds));
    this.checkCeilings(events, amounts);
    const caps = await this.tenants.caps(appId);
    if (caps.listenerDayCapMsat !== null) {
      const missing = offending(events, (e) => (e.listenerId === undefined ? ['listenerId', 'is required: the app has a per-listener daily cap'] : undefined));
      if (missing.length) {
        throw new AppError(
          ErrorCode.ListenerIdRequired,
          `${missing.length} of the events have no listenerId, which the app's listener cap requires; nothing was accepted`,
          missing,
        );
      }
    }
    let inserted: StoredRow[];
    try {
      inserted = await this.store(appId, unique, amounts, capPeriods(caps, now));
    } catch (error) {
      const breach = capBreachOf(error);
      throw breach ? capBreachError(breach, now) : error;
    }
    const acceptedIds = new Set(inserted.map((row) => row.event_id));
    if (inserted.length) await this.requestApply(inserted.map((row) => row.id));

    const seen = new Set<string>();
    const results = events.map((event) => {
      const status = acceptedIds.has(event.id) && !seen.has(event.id) ? ('accepted' as const) : ('duplicate' as const);
      seen.add(event.id);
      return { id: event.id, status };
    });
    const accepted = results.filter((r) => r.status === 'accepted').length;
    return { accepted, duplicates: results.length - accepted, events: results };
  }

  // MAX_EVENT_SATS per event and MAX_REQUEST_SATS per request (each event id counted once), before anything is
  // stored: one event over its ceiling refuses the request.
  private checkCeilings(events: ListeningEvent[], uniqueAmounts: bigint[]): void {
    const { MAX_EVENT_SATS, MAX_REQUEST_SATS } = this.config;
    const over = offending(events, (e) => {
      const msat = eventAmountMsat(e.satsPerMinute, e.seconds);
      return msat > BigInt(MAX_EVENT_SATS) * MSAT_PER_SAT
        ? ['satsPerMinute', `the event is worth ${msat} msat; at most ${MAX_EVENT_SATS} sats (MAX_EVENT_SATS) per event`]
        : undefined;
    });
    if (over.length) {
      throw new AppError(
        ErrorCode.EventAmountTooLarge,
        `${over.length} of the events are worth more than MAX_EVENT_SATS (${MAX_EVENT_SATS} sats); nothing was accepted`,
        over,
      );
    }
    const total = uniqueAmounts.reduce((a, b) => a + b, 0n);
    if (total > BigInt(MAX_REQUEST_SATS) * MSAT_PER_SAT) {
      throw new AppError(
        ErrorCode.RequestAmountTooLarge,
        `the events are worth ${total} msat together; at most MAX_REQUEST_SATS (${MAX_REQUEST_SATS} sats) per request; nothing was accepted`,
      );
    }
  }

  // One statement (no interactive transaction waiting for a second connection): stores the new events, adds
  // them to the app's spend counters and checks each counter against its cap; a counter over its cap raises
  // (splitstream_check_spend), which rolls back the events and the counters alike. Counters are upserted in
  // period order, so concurrent requests of one app lock them in one order (no deadlock) and queue on them.
  private store(appId: string, events: ListeningEvent[], amounts: bigint[], caps: CapPeriods) {
    const listenerCap = caps.listenerDayCapMsat === null ? null : String(caps.listenerDayCapMsat);
    return this.prisma.$queryRaw<StoredRow[]>`
      WITH inserted AS (
        INSERT INTO listening_event (app_id, event_id, payload, amount_msat, listener_id)
        SELECT ${appId}, e.event_id, e.payload::jsonb, e.amount_msat, e.listener_id
        FROM unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => JSON.stringify(e satisfies ListeningPayload))}::text[],
                    ${amounts.map(String)}::bigint[], ${events.map((e) => e.listenerId ?? null)}::text[])
          AS e(event_id, payload, amount_msat, listener_id)
        ORDER BY e.event_id -- one lock order for requests that share event ids
        ON CONFLICT (app_id, event_id) DO NOTHING
        RETURNING id, event_id, amount_msat, listener_id
      ), charges AS (
        SELECT c.period, c.cap, SUM(i.amount_msat)::bigint AS msat
        FROM inserted i CROSS JOIN LATERAL (VALUES (${caps.day}, ${String(caps.dayCapMsat)}::bigint),
                                                   (${caps.month}, ${String(caps.monthCapMsat)}::bigint),
                                                   (${caps.listenerPrefix} || i.listener_id, ${listenerCap}::bigint)) AS c(period, cap)
        WHERE c.period IS NOT NULL AND c.cap IS NOT NULL
        GROUP BY c.period, c.cap
      ), spent AS (
        INSERT INTO app_spend (app_id, period, msat)
        SELECT ${appId}, period, msat FROM charges WHERE msat > 0 ORDER BY period
        ON CONFLICT (app_id, period) DO UPDATE SET msat = app_spend.msat + EXCLUDED.msat
        RETURNING period, msat
      ), checked AS (
        -- ORDER BY: the check runs in period order, so the first cap a request breaks is always the same one.
        SELECT splitstream_check_spend(s.period, s.msat, c.msat, c.cap) AS ok FROM spent s JOIN charges c USING (period) ORDER BY s.period
      )
      SELECT i.id, i.event_id FROM inserted i, (SELECT bool_and(ok) FROM checked) AS all_checked`;
  }

  // Best effort: when Redis is down the events are already stored, and the worker's sweep applies them later.
  private async requestApply(ids: bigint[]): Promise<void> {
    try {
      await this.jobs.enqueue(APPLY_EVENTS, { eventIds: ids.map(String) });
    } catch (error) {
      this.logger.warn(`events stored but not queued (${(error as Error).message}); the worker's sweep will apply them`);
    }
  }
}
