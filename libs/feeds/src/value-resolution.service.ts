import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { APPLY_EVENTS } from '@splitstream/ledger';
import { Prisma, PrismaService } from '@splitstream/persistence';
import { JobQueue } from '@splitstream/queue';
import { FeedSources, SourceFailure } from './feed-sources.js';
import { RESOLVE_BOOST, RESOLVE_EVENTS } from './jobs.js';
import { type ValueReference, ValueBlockResolver } from './value-resolver.service.js';

const RETRY_CHUNK = 500;

// An event sent by reference whose block may be looked for now.
const WAITS_FOR_VALUE = Prisma.sql`applied_at IS NULL AND apply_error IS NULL AND NOT (payload ? 'value') AND resolved_value IS NULL
  AND (resolve_after IS NULL OR resolve_after <= now())`;
// Events asked for by id are found by id only, with WAITS_FOR_VALUE judged on each row found: in the WHERE clause
// it matches the awaiting index's predicate, and under a backlog the planner (statistics from before it) walked
// that whole index for every apply job (about 300 ms each at 50,000 waiting events) instead of 100 key lookups.
export const anyWaitingSql = (eventIds: bigint[]) =>
  Prisma.sql`SELECT COALESCE(bool_or(${WAITS_FOR_VALUE}), false) AS waiting FROM listening_event WHERE id = ANY(${eventIds.map(String)}::bigint[])`;
export const waitingAmongSql = (eventIds: bigint[]) =>
  Prisma.sql`SELECT id, payload->>'feedUrl' AS feed_url, payload->>'feedGuid' AS feed_guid, payload->>'itemGuid' AS item_guid, ${WAITS_FOR_VALUE} AS waiting
             FROM listening_event WHERE id = ANY(${eventIds.map(String)}::bigint[]) ORDER BY id`;

// Which set-aside events (and boosts) POST /v1/events/retry applies again (tenant null: an admin's, every app's).
export interface RetryFilter {
  tenant: string | null;
  byAdmin: boolean; // an admin's retry also lifts the backoff of the feeds (shared by every app) that failed
  feedGuid?: string;
  itemGuid?: string;
  feedUrl?: string;
  since?: Date;
  until?: Date;
}

interface Waiting {
  id: bigint;
  feed_url: string | null;
  feed_guid: string;
  item_guid: string;
  waiting: boolean;
}

// The worker's step before applying events sent by reference (RESOLVE_EVENTS, on its own queue): finds each one's
// block (ValueBlockResolver) and stores it with its origin on the event, so the ledger applies it like an inline one.
// A reference that fails waits for its source's backoff (the event is queued again for then); once its source failed FEED_MAX_ATTEMPTS times in
// a row the event is set aside with the reason, until POST /v1/events/retry. Bounded per job: at most
// FEED_REFERENCES_PER_JOB references (the others wait for the next job or the sweep), FEED_CONCURRENCY at once.
@Injectable()
export class ValueResolution {
  private readonly logger = new Logger(ValueResolution.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly resolver: ValueBlockResolver,
    private readonly sources: FeedSources,
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // Whether any of `eventIds` waits for its block and may be looked for now (an apply job then asks RESOLVE_EVENTS).
  async anyWaiting(eventIds: bigint[]): Promise<boolean> {
    if (eventIds.length === 0) return false;
    const [row] = await this.prisma.$queryRaw<{ waiting: boolean }[]>(anyWaitingSql(eventIds));
    return row!.waiting;
  }

  // The ids among `eventIds` whose block was found now (ready to apply).
  async prepare(eventIds: bigint[]): Promise<bigint[]> {
    if (eventIds.length === 0) return [];
    const waiting = (await this.prisma.$queryRaw<Waiting[]>(waitingAmongSql(eventIds))).filter((row) => row.waiting);
    const byReference = new Map<string, { ref: ValueReference; ids: bigint[] }>();
    for (const row of waiting) {
      const ref: ValueReference = { feedGuid: row.feed_guid, itemGuid: row.item_guid, ...(row.feed_url !== null && { feedUrl: row.feed_url }) };
      const key = JSON.stringify([ref.feedUrl ?? null, ref.feedGuid, ref.itemGuid]);
      const group = byReference.get(key) ?? (byReference.size < this.config.FEED_REFERENCES_PER_JOB ? { ref, ids: [] } : undefined);
      if (!group) continue;
      group.ids.push(row.id);
      byReference.set(key, group);
    }
    const ready: bigint[] = [];
    const groups = [...byReference.values()];
    // One group's unexpected error (the database refusing a write) never keeps the others from being applied: its
    // events stay waiting (no resolved block) for the next job or the sweep.
    const next = async (): Promise<void> => {
      for (let group = groups.shift(); group; group = groups.shift()) {
        const [outcome] = await Promise.allSettled([this.resolveGroup(group.ref, group.ids)]);
        if (outcome.status === 'fulfilled' && outcome.value) ready.push(...group.ids);
        if (outcome.status === 'rejected')
          this.logger.error({ events: group.ids.length }, `value block not resolved (${(outcome.reason as Error).message}); the events wait for the sweep`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.FEED_CONCURRENCY, groups.length) }, next));
    return ready;
  }

  private async resolveGroup(ref: ValueReference, ids: bigint[]): Promise<boolean> {
    const idList = ids.map(String);
    try {
      const { block, source } = await this.resolver.resolve(ref);
      await this.prisma.$executeRaw`
        UPDATE listening_event SET resolved_value = ${JSON.stringify(block)}::jsonb, value_source = ${JSON.stringify(source)}::jsonb,
                                   resolve_after = NULL, resolve_error = NULL
        WHERE id = ANY(${idList}::bigint[]) AND resolved_value IS NULL`;
      return true;
    } catch (error) {
      if (!(error instanceof SourceFailure)) throw error;
      const failed = error.failedSource;
      const reason = error.setAsideReason(this.config.FEED_MAX_ATTEMPTS);
      if (reason !== undefined) {
        this.logger.warn({ events: ids.length, source: error.url }, `events set aside: ${reason}`);
        await this.prisma.$executeRaw`
          UPDATE listening_event SET apply_error = ${reason}, resolve_error = ${error.message}, value_source = ${failed}::jsonb, resolve_after = NULL
          WHERE id = ANY(${idList}::bigint[]) AND applied_at IS NULL`;
        return false;
      }
      const delayMs = Math.max(0, error.retryAt.getTime() - Date.now());
      await this.prisma.$executeRaw`
        UPDATE listening_event SET resolve_after = now() + make_interval(secs => ${delayMs / 1000}), resolve_error = ${error.message},
                                   value_source = ${failed}::jsonb
        WHERE id = ANY(${idList}::bigint[]) AND applied_at IS NULL`;
      await this.jobs.enqueue(RESOLVE_EVENTS, { eventIds: idList, delayMs }).catch((e: Error) => {
        this.logger.warn(`events waiting for ${error.url} not queued again (${e.message}); the sweep will`);
      });
      return false;
    }
  }

  // Set-aside events matching the filter are applied again: they are queued, their items' failures reset, and for an
  // admin their failed sources may be called at once (and are read again); an app's retry never
  // lifts the backoff of a source every app shares. Events set aside for another reason are tried again too (and set aside again
  // if nothing changed).
  // Boosts sent by reference that were set aside for want of a block are looked for again the same way.
  async retry(filter: RetryFilter): Promise<{ retried: number; boostsRetried: number }> {
    const rows = await this.prisma.$queryRaw<{ id: bigint; failed_source: string | null }[]>`
      UPDATE listening_event SET apply_error = NULL, resolve_after = NULL, resolve_error = NULL
      WHERE apply_error IS NOT NULL AND applied_at IS NULL ${retryConditions(filter)}
      RETURNING id, value_source->>'failedSource' AS failed_source`;
    const boosts = await this.prisma.$queryRaw<{ id: bigint; failed_source: string | null }[]>`
      UPDATE boost SET apply_error = NULL, resolve_after = NULL, resolve_error = NULL, resolved_value = NULL
      WHERE apply_error IS NOT NULL AND applied_at IS NULL AND NOT (payload ? 'value') ${retryConditions(filter)}
      RETURNING id, value_source->>'failedSource' AS failed_source`;
    const failed = [...new Set([...rows, ...boosts].flatMap((r) => (r.failed_source === null ? [] : [r.failed_source])))];
    if (failed.length) await this.sources.retry(failed, { sources: filter.byAdmin });
    const ids = rows.map((r) => String(r.id));
    for (let i = 0; i < ids.length; i += RETRY_CHUNK) await this.jobs.enqueue(APPLY_EVENTS, { eventIds: ids.slice(i, i + RETRY_CHUNK) });
    const retriedAt = String(Date.now());
    for (const boost of boosts) await this.jobs.enqueue(RESOLVE_BOOST, { boostId: String(boost.id), after: `retry-${retriedAt}` });
    return { retried: ids.length, boostsRetried: boosts.length };
  }
}

function retryConditions(filter: RetryFilter): Prisma.Sql {
  const conditions: Prisma.Sql[] = [];
  if (filter.tenant !== null) conditions.push(Prisma.sql`app_id = ${filter.tenant}`);
  if (filter.feedGuid !== undefined) conditions.push(Prisma.sql`payload->>'feedGuid' = ${filter.feedGuid}`);
  if (filter.itemGuid !== undefined) conditions.push(Prisma.sql`payload->>'itemGuid' = ${filter.itemGuid}`);
  if (filter.feedUrl !== undefined) conditions.push(Prisma.sql`payload->>'feedUrl' = ${filter.feedUrl}`);
  if (filter.since !== undefined) conditions.push(Prisma.sql`received_at >= ${filter.since}`);
  if (filter.until !== undefined) conditions.push(Prisma.sql`received_at < ${filter.until}`);
  return conditions.length ? Prisma.sql`AND ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
}
