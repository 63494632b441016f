import { Injectable, Logger } from '@nestjs/common';
import { eventAmountMsat, toIssues, type ValidationIssue } from '@splitstream/money';
import { PrismaService } from '@splitstream/persistence';
import { APPLY_EVENTS } from '@splitstream/ledger';
import { JobQueue } from '@splitstream/queue';
import { ingestRequestSchema, type ListeningEvent, listeningEventSchema } from './listening-event.schema.js';

export type IngestValidation = { ok: true; events: ListeningEvent[] } | { ok: false; issues: ValidationIssue[] };

export interface IngestResult {
  accepted: number;
  duplicates: number;
  events: { id: string; status: 'accepted' | 'duplicate' }[];
}

const ENQUEUE_TIMEOUT_MS = 2_000;

@Injectable()
export class IngestionService {
  private readonly logger = new Logger(IngestionService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly jobs: JobQueue,
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
  async ingest(appId: string, events: ListeningEvent[]): Promise<IngestResult> {
    const firstOfId = new Map<string, ListeningEvent>();
    for (const event of events) if (!firstOfId.has(event.id)) firstOfId.set(event.id, event);
    const unique = [...firstOfId.values()];
    const inserted = await this.prisma.$queryRaw<{ id: bigint; event_id: string }[]>`
      INSERT INTO listening_event (app_id, event_id, payload, amount_msat)
      SELECT ${appId}, e.event_id, e.payload::jsonb, e.amount_msat
      FROM unnest(${unique.map((e) => e.id)}::text[], ${unique.map((e) => JSON.stringify(e))}::text[],
                  ${unique.map((e) => eventAmountMsat(e.satsPerMinute, e.seconds).toString())}::bigint[])
        AS e(event_id, payload, amount_msat)
      ON CONFLICT (app_id, event_id) DO NOTHING
      RETURNING id, event_id`;
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

  // Best effort: when Redis is down the events are already stored, and the worker's sweep applies them later.
  private async requestApply(ids: bigint[]): Promise<void> {
    try {
      await Promise.race([
        this.jobs.enqueue(APPLY_EVENTS, { eventIds: ids.map(String) }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), ENQUEUE_TIMEOUT_MS).unref()),
      ]);
    } catch (error) {
      this.logger.warn(`events stored but not queued (${(error as Error).message}); the worker's sweep will apply them`);
    }
  }
}
