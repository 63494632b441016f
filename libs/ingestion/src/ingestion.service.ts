import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { AppError, ErrorCode, errorBody } from '@splitstream/errors';
import { eventAmountMsat, MSAT_PER_SAT, toIssues, type ValidationIssue, withSuggestionBudget } from '@splitstream/money';
import { PrismaService } from '@splitstream/persistence';
import { type CapBreach, capBreachOf, capBreachRejection, capPeriods, type CapPeriods, TenantsService } from '@splitstream/tenants';
import { APPLY_EVENTS, type ListeningPayload } from '@splitstream/ledger';
import { JobQueue } from '@splitstream/queue';
import { ingestRequestSchema, type ListeningEvent, listeningEventSchema } from './listening-event.schema.js';

// What intake made of one event of a request (not to be confused with the ledger's EventStatus: applied or not).
export const EVENT_VERDICTS = ['accepted', 'duplicate', 'conflict', 'rejected'] as const;
export type EventVerdict = (typeof EVENT_VERDICTS)[number];

// Why one event is rejected: its result's code (never a whole request's, never a 429: that is rate limiting only).
export const EVENT_REJECTION_CODES = [
  ErrorCode.InvalidRequest,
  ErrorCode.EventAmountTooLarge,
  ErrorCode.RequestAmountTooLarge,
  ErrorCode.ListenerIdRequired,
  ErrorCode.AppDayCapExceeded,
  ErrorCode.AppMonthCapExceeded,
  ErrorCode.ListenerDayCapExceeded,
] as const;
export type EventRejectionCode = (typeof EVENT_REJECTION_CODES)[number];

// Each event's answer, in request order. `code` and `issues` say why an event was rejected (a conflict has issues
// only: its status is its reason).
export interface EventResult {
  index: number;
  id: string | null; // as sent; null when it sent no id a result could name (not a string of 1 to 128 characters)
  status: EventVerdict;
  code?: EventRejectionCode;
  issues?: ValidationIssue[];
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  events: EventResult[];
}

// An event that passed the schema, with its canonical payload (the parsed event as stored) and its worth.
interface Candidate {
  index: number;
  event: ListeningEvent;
  payload: string;
  amountMsat: bigint;
}

// The events a store call stored (their row ids) and the ones a cap refused, by request index.
interface Stored {
  stored: Map<number, bigint>;
  breaches: Map<number, CapBreach>;
}

interface StoredRow {
  id: bigint;
  event_id: string;
}

const idOf = (raw: unknown): string | null => {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length >= 1 && id.length <= 128 ? id : null;
};
const storedConflict = (id: string) => `event id ${JSON.stringify(id)} was stored before with different content; nothing changed (a new event needs a new id)`;
const eventPath = (index: number, field?: string) => `events[${index}]${field ? `.${field}` : ''}`;

// An answer's size is bounded by these, not by the body's: a malformed event reports at most MAX_ISSUES_PER_EVENT
// issues, a request at most MAX_ISSUES_PER_ANSWER (README: POST /v1/events), and suggestions for misspelt fields
// cost a bounded amount of CPU per request.
export const MAX_ISSUES_PER_EVENT = 20;
export const MAX_ISSUES_PER_ANSWER = 500;
const MAX_SUGGESTIONS_PER_REQUEST = 200;

// The first max - 1 issues and one that counts the rest, when there are more than max.
function capIssues(issues: ValidationIssue[], max: number, path: string): ValidationIssue[] {
  if (issues.length <= max) return issues;
  return [...issues.slice(0, max - 1), { path, message: `${issues.length - max + 1} more issues not listed` }];
}

// A request none of whose events was stored (or was stored before): 400 events_rejected, each event's issues with
// its index and code, so an app that reads only errors still learns what to fix. Undefined when the request is a 202.
export function batchRefusal(result: IngestResult): AppError | undefined {
  if (result.accepted + result.duplicates > 0) return undefined;
  return new EventsRejectedError(result);
}

// No event of a request was stored: 400 in the one error shape, its issues naming each event with its code, and
// beside them the totals and per-event results a 202 carries, so an app reads one shape either way (each result's
// issues are listed once, in `issues` by index, which keeps the answer's size bounded by the issue caps).
export class EventsRejectedError extends AppError {
  constructor(readonly result: IngestResult) {
    super(
      ErrorCode.EventsRejected,
      `no event was stored: ${result.rejected} rejected, ${result.conflicts} conflicting with an event of the same id; issues name each, with its code`,
      result.events.flatMap(({ index, status, code, issues: own = [] }) =>
        own.map((issue) => ({ ...issue, index, code: status === 'conflict' ? ErrorCode.Conflict : code })),
      ),
    );
  }

  override body() {
    const events = this.result.events.map(({ issues: _listedInIssues, ...result }) => result);
    return errorBody(this.code, this.message, this.issues, { ...this.result, events });
  }
}

@Injectable()
export class IngestionService {
  private readonly logger = new Logger(IngestionService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly jobs: JobQueue,
    private readonly tenants: TenantsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // Judges each event on its own, so one bad event never keeps the others out (an app resending an offline queue
  // is never stuck behind it): the valid ones that fit every ceiling and cap are stored (PostgreSQL is the durable
  // queue of record), then the worker is asked to apply them. Only a malformed request as a whole is refused.
  // An event id counts once per app, ever: the unique (app_id, event_id) index decides, also between api instances.
  // Order of judging: the schema; an id stored before (duplicate or conflict, whatever ceilings changed since);
  // an earlier copy in the request that stands for the id; MAX_EVENT_SATS, listenerId, MAX_REQUEST_SATS; the caps.
  async ingest(appId: string, body: unknown, now = new Date()): Promise<IngestResult> {
    const envelope = ingestRequestSchema.safeParse(body);
    if (!envelope.success) throw AppError.validation(toIssues(envelope.error), 'the request is invalid; nothing was accepted');
    const results: EventResult[] = envelope.data.events.map((raw, index) => ({ index, id: idOf(raw), status: 'rejected' }));
    const reject = (index: number, code: EventRejectionCode, issues: ValidationIssue[]) => Object.assign(results[index]!, { code, issues });

    const parsed = withSuggestionBudget(MAX_SUGGESTIONS_PER_REQUEST, () => this.parse(envelope.data.events, reject));
    const stored = await this.storedBefore(appId, parsed);
    // The first copy of an id that passes the ceilings stands for it; a copy after a rejected one is judged on its own.
    const standing = new Map<string, Candidate>();
    const repeats: { index: number; of: Candidate }[] = [];
    const later: Candidate[] = []; // other content than the copy standing for the id
    const caps = await this.tenants.caps(appId);
    const ceilings = this.ceilings(caps.listenerDayCapMsat !== null, reject);
    for (const candidate of parsed) {
      const { index, event, payload } = candidate;
      const same = stored.get(index);
      const first = standing.get(event.id);
      if (same !== undefined) {
        if (same) results[index]!.status = 'duplicate';
        else this.conflict(results[index]!, storedConflict(event.id));
      } else if (first?.payload === payload) repeats.push({ index, of: first });
      else if (first) later.push(candidate);
      else if (ceilings(candidate)) standing.set(event.id, candidate);
    }

    const periods = capPeriods(caps, now);
    const storedRows: bigint[] = [];
    const store = async (events: Candidate[], oneByOne: boolean) => {
      const { stored, breaches } = oneByOne ? await this.storeEach(appId, events, periods) : await this.storeFitting(appId, events, periods);
      for (const [index, breach] of breaches) {
        const { code, message } = capBreachRejection(breach, now);
        reject(index, code, [{ path: eventPath(index), message }]);
      }
      for (const [index, id] of stored) {
        results[index]!.status = 'accepted';
        storedRows.push(id);
      }
      // Stored by a concurrent request since this one looked (or, one by one, by an earlier copy of the id).
      await this.judgeResent(
        appId,
        events.filter((c) => !stored.has(c.index) && !breaches.has(c.index)),
        results,
      );
      return breaches;
    };
    const breaches = await store([...standing.values()], false);
    // A copy with other content than the one standing for its id conflicts with it, unless a cap refused that one:
    // then the later copies are judged on their own, in one more call that stores the first of them that fits (the
    // others are then duplicates or conflicts of it).
    const retry = later.filter((c) => breaches.has(standing.get(c.event.id)!.index));
    for (const c of later) {
      const first = standing.get(c.event.id)!;
      if (breaches.has(first.index)) continue;
      this.conflict(
        results[c.index]!,
        `event id ${JSON.stringify(c.event.id)} comes earlier in this request (${eventPath(first.index)}) with different content; nothing changed`,
      );
    }
    const fitting = retry.filter(ceilings);
    if (fitting.length) await store(fitting, true);
    if (storedRows.length) await this.requestApply(storedRows);

    // A repeat within the request gets its first's answer: stored now or before, it is a duplicate.
    for (const { index, of } of repeats) {
      const first = results[of.index]!;
      const status = first.status === 'accepted' ? 'duplicate' : first.status;
      const issues = first.issues?.map((issue) => ({ ...issue, path: issue.path.replace(/^events\[\d+\]/, eventPath(index)) }));
      Object.assign(results[index]!, { status, ...(first.code && { code: first.code }), ...(issues && { issues }) });
    }
    const count = (status: EventVerdict) => results.filter((r) => r.status === status).length;
    return { accepted: count('accepted'), duplicates: count('duplicate'), conflicts: count('conflict'), rejected: count('rejected'), events: results };
  }

  // Each event through the schema, its issues capped (MAX_ISSUES_PER_EVENT, and MAX_ISSUES_PER_ANSWER for the
  // request): once the answer holds that many, the remaining events are not validated at all (each rejected with
  // one short issue), so a hostile body gets an answer and a CPU cost bounded by the caps, not by its size.
  private parse(events: unknown[], reject: (index: number, code: EventRejectionCode, issues: ValidationIssue[]) => void): Candidate[] {
    let issuesLeft = MAX_ISSUES_PER_ANSWER;
    const candidates: Candidate[] = [];
    events.forEach((raw, index) => {
      if (issuesLeft <= 0) {
        const message = `not checked: this answer already holds ${MAX_ISSUES_PER_ANSWER} issues; fix those and send this event again`;
        return void reject(index, ErrorCode.InvalidRequest, [{ path: eventPath(index), message }]);
      }
      const parsed = listeningEventSchema.safeParse(raw);
      if (!parsed.success) {
        const issues = capIssues(toIssues(parsed.error, ['events', index]), Math.min(MAX_ISSUES_PER_EVENT, issuesLeft), eventPath(index));
        issuesLeft -= issues.length;
        return void reject(index, ErrorCode.InvalidRequest, issues);
      }
      const event = parsed.data;
      candidates.push({
        index,
        event,
        payload: JSON.stringify(event satisfies ListeningPayload),
        amountMsat: eventAmountMsat(event.satsPerMinute, event.seconds),
      });
    });
    return candidates;
  }

  private conflict(result: EventResult, message: string): void {
    Object.assign(result, { status: 'conflict', issues: [{ path: eventPath(result.index, 'id'), message }] });
  }

  // MAX_EVENT_SATS per event, listenerId when the app has a listener cap, and MAX_REQUEST_SATS per request: the
  // events in order until their total would exceed it, the rest refused (sent again in a later request, they fit).
  // Events stored before never reach it, so resending them costs nothing of the request's total.
  private ceilings(listenerCapped: boolean, reject: (index: number, code: EventRejectionCode, issues: ValidationIssue[]) => void) {
    const { MAX_EVENT_SATS, MAX_REQUEST_SATS } = this.config;
    const eventCeiling = BigInt(MAX_EVENT_SATS) * MSAT_PER_SAT;
    const requestCeiling = BigInt(MAX_REQUEST_SATS) * MSAT_PER_SAT;
    let total = 0n;
    return ({ index, event, amountMsat }: Candidate): boolean => {
      if (amountMsat > eventCeiling) {
        const message = `the event is worth ${amountMsat} msat; at most ${MAX_EVENT_SATS} sats (MAX_EVENT_SATS) per event`;
        reject(index, ErrorCode.EventAmountTooLarge, [{ path: eventPath(index, 'satsPerMinute'), message }]);
      } else if (listenerCapped && event.listenerId === undefined) {
        reject(index, ErrorCode.ListenerIdRequired, [{ path: eventPath(index, 'listenerId'), message: 'is required: the app has a per-listener daily cap' }]);
      } else if ((total += amountMsat) > requestCeiling) {
        const message = `the request's events up to this one are worth ${total} msat; at most ${MAX_REQUEST_SATS} sats (MAX_REQUEST_SATS) per request: send it in another request`;
        reject(index, ErrorCode.RequestAmountTooLarge, [{ path: eventPath(index), message }]);
      } else return true;
      return false;
    };
  }

  // For each event whose id the app stored before: whether the stored payload is this one (compared as jsonb,
  // exactly: no hash to collide, no column to add). One statement for the whole request.
  private async storedBefore(appId: string, events: Candidate[]): Promise<Map<number, boolean>> {
    if (!events.length) return new Map();
    const rows = await this.prisma.$queryRaw<{ index: number; same: boolean }[]>`
      SELECT e.index, l.payload = e.payload::jsonb AS same
      FROM unnest(${events.map((c) => c.index)}::int[], ${events.map((c) => c.event.id)}::text[], ${events.map((c) => c.payload)}::text[])
        AS e(index, event_id, payload)
      JOIN listening_event l ON l.app_id = ${appId} AND l.event_id = e.event_id`;
    return new Map(rows.map((row) => [row.index, row.same]));
  }

  // The common path is one statement for all events. Only when it breaks a cap (and so stored nothing) are the
  // events stored one by one, in request order, by one call of splitstream_store_fitting (its migration), so exactly
  // the events that fit are stored and each that does not is named with the cap it breaks, in one round trip
  // whatever the number of events. Both charge their caps under the counters' row locks, so concurrent requests of
  // one app never overshoot a cap either way.
  private async storeFitting(appId: string, events: Candidate[], caps: CapPeriods): Promise<Stored> {
    if (!events.length) return { stored: new Map(), breaches: new Map() };
    try {
      const rows = await this.store(appId, events, caps);
      const indexOf = new Map(events.map((c) => [c.event.id, c.index])); // one event per id in a batch
      return { stored: new Map(rows.map((row) => [indexOf.get(row.event_id)!, row.id])), breaches: new Map() };
    } catch (error) {
      if (!capBreachOf(error)) throw error;
    }
    return this.storeEach(appId, events, caps);
  }

  private async storeEach(appId: string, events: Candidate[], caps: CapPeriods): Promise<Stored> {
    const rows = await this.prisma.$queryRaw<{ ord: number; id: bigint | null; period: string | null; total: bigint; charged: bigint; cap: bigint }[]>`
      SELECT ord, id, period, total, charged, cap FROM splitstream_store_fitting(
        ${appId}, ${events.map((c) => c.event.id)}::text[], ${events.map((c) => c.payload)}::text[],
        ${events.map((c) => String(c.amountMsat))}::bigint[], ${events.map((c) => c.event.listenerId ?? null)}::text[],
        ${caps.day}, ${String(caps.dayCapMsat)}::bigint, ${caps.month}, ${String(caps.monthCapMsat)}::bigint,
        ${caps.listenerPrefix}, ${caps.listenerDayCapMsat === null ? null : String(caps.listenerDayCapMsat)}::bigint)`;
    const stored = new Map<number, bigint>();
    const breaches = new Map<number, CapBreach>();
    for (const { ord, id, period, total, charged, cap } of rows) {
      const index = events[ord - 1]!.index;
      if (period !== null) breaches.set(index, { period, total, charged, cap });
      else if (id !== null) stored.set(index, id);
    }
    return { stored, breaches };
  }

  // Events whose id a concurrent request stored while this one ran: a duplicate when the stored payload is this
  // one, else a conflict (nothing changed). A separate statement because a copy a concurrent request committed
  // while the insert waited on it is not in the insert statement's snapshot.
  private async judgeResent(appId: string, events: Candidate[], results: EventResult[]): Promise<void> {
    if (!events.length) return;
    const same = await this.storedBefore(appId, events);
    for (const { index, event } of events) {
      if (same.get(index)) results[index]!.status = 'duplicate';
      else this.conflict(results[index]!, storedConflict(event.id));
    }
  }

  // One statement (no interactive transaction waiting for a second connection): stores the new events, adds
  // them to the app's spend counters and checks each counter against its cap; a counter over its cap raises
  // (splitstream_check_spend), which rolls back the events and the counters alike. Counters are upserted in
  // period order, so concurrent requests of one app lock them in one order (no deadlock) and queue on them.
  private store(appId: string, events: Candidate[], caps: CapPeriods) {
    const listenerCap = caps.listenerDayCapMsat === null ? null : String(caps.listenerDayCapMsat);
    return this.prisma.$queryRaw<StoredRow[]>`
      WITH inserted AS (
        INSERT INTO listening_event (app_id, event_id, payload, amount_msat, listener_id)
        SELECT ${appId}, e.event_id, e.payload::jsonb, e.amount_msat, e.listener_id
        FROM unnest(${events.map((c) => c.event.id)}::text[], ${events.map((c) => c.payload)}::text[],
                    ${events.map((c) => String(c.amountMsat))}::bigint[], ${events.map((c) => c.event.listenerId ?? null)}::text[])
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
