import { Injectable, Logger } from '@nestjs/common';
import { eventAmountMsat, toIssues, type ValidationIssue } from '@splitstream/money';
import { type Prisma, PrismaService } from '@splitstream/persistence';
import { chargeSpend, TenantsService } from '@splitstream/tenants';
import { APPLY_EVENTS, type ListeningPayload } from '@splitstream/ledger';
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
    private readonly tenants: TenantsService,
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
    const caps = await this.tenants.caps(appId);
    // An app with spend caps stores and charges in one transaction: an event over a cap rolls back the request.
    const inserted = caps
      ? await this.prisma.$transaction(async (tx) => {
          const rows = await this.store(tx, appId, unique);
          await chargeSpend(
            tx,
            appId,
            caps,
            rows.map((r) => ({ amountMsat: r.amount_msat, listenerId: r.listener_id })),
          );
          return rows;
        })
      : await this.store(this.prisma, appId, unique);
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

  private store(db: Pick<Prisma.TransactionClient, '$queryRaw'>, appId: string, events: ListeningEvent[]) {
    return db.$queryRaw<{ id: bigint; event_id: string; amount_msat: bigint; listener_id: string | null }[]>`
      INSERT INTO listening_event (app_id, event_id, payload, amount_msat, listener_id)
      SELECT ${appId}, e.event_id, e.payload::jsonb, e.amount_msat, e.listener_id
      FROM unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => JSON.stringify(e satisfies ListeningPayload))}::text[],
                  ${events.map((e) => eventAmountMsat(e.satsPerMinute, e.seconds).toString())}::bigint[],
                  ${events.map((e) => e.listenerId ?? null)}::text[])
        AS e(event_id, payload, amount_msat, listener_id)
      ON CONFLICT (app_id, event_id) DO NOTHING
      RETURNING id, event_id, amount_msat, listener_id`;
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
