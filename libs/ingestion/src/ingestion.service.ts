import { Inject, Injectable, Logger } from '@nestjs/common';
import type pg from 'pg';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { AppError, ErrorCode, errorBody } from '@splitstream/errors';
import { eventAmountMsat, MSAT_PER_SAT, toIssues, type ValidationIssue, withSuggestionBudget } from '@splitstream/money';
import { GroupCommit, inSavepoint, type Outcome, SQL_POOL_SIZE, SqlPool, transactionOn } from '@splitstream/persistence';
import { type AppCaps, type CapBreach, capBreachOf, capBreachRejection, capPeriods, type CapPeriods, TenantsService } from '@splitstream/tenants';
import { APPLY_EVENTS, type ListeningPayload } from '@splitstream/ledger';
import { type IngestGroupPath, MetricsService } from '@splitstream/observability';
import { JobQueue } from '@splitstream/queue';
import { ingestRequestSchema, type ListeningEvent, parseListeningEvent, payloadOf } from './listening-event.schema.js';

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

// One request waiting for a group commit: its events that passed the schema, and the answers so far.
interface Pending {
  appId: string;
  parsed: Candidate[];
  checked: EventResult[];
  now: Date;
}

// What a group commit made of one request: its answers, and the rows it stored (for the worker).
interface Judged {
  results: EventResult[];
  storedRows: bigint[];
}

// Ids per apply job: a group's events are queued in jobs of a request's usual size, not one job of thousands.
const APPLY_JOB_EVENTS = 500;

const idOf = (raw: unknown): string | null => {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length >= 1 && id.length <= 128 ? id : null;
};
const storedConflict = (id: string) => `event id ${JSON.stringify(id)} was stored before with different content; nothing changed (a new event needs a new id)`;
// `url` is `base` or below it (same origin, path under base's).
function isUnder(url: URL, base: URL): boolean {
  const basePath = base.pathname.replace(/\/+$/, '');
  return url.origin === base.origin && (url.pathname === basePath || url.pathname.startsWith(`${basePath}/`));
}

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

// An app row's caps as text (bigint columns), null where the app uses the default.
type CapColumns = { day_cap_msat: string | null; month_cap_msat: string | null; listener_day_cap_msat: string | null };

const rejecter = (results: EventResult[]) => (index: number, code: EventRejectionCode, issues: ValidationIssue[]) =>
  void Object.assign(results[index]!, { code, issues });

const msatOrNull = (msat: bigint | null) => (msat === null ? null : String(msat));
// Payloads (JSON texts) go to PostgreSQL as one JSON array: a text[] parameter escapes every quote of every payload
// in JavaScript and PostgreSQL parses each twice (array, then jsonb); this is one parse.
const jsonArray = (payloads: string[]) => `[${payloads.join(',')}]`;

// One event to store, with the app it belongs to.
interface Row {
  appId: string;
  candidate: Candidate;
}

// One request between its judging before the insert and after it.
interface Judging {
  pending: Pending;
  results: EventResult[];
  reject: (index: number, code: EventRejectionCode, issues: ValidationIssue[]) => void;
  standing: Map<string, Candidate>; // the copy that stands for each id
  repeats: { index: number; of: Candidate }[]; // same content as the copy standing for the id
  later: Candidate[]; // other content than the copy standing for the id
  ceilings: (candidate: Candidate) => boolean;
  periods: CapPeriods;
}

const keyOf = (appId: string, eventId: string) => `${appId}\u0000${eventId}`;

// Whether a group's requests were all received on one UTC day: they are charged to the same day's counters.
const onOneUtcDay = (requests: Pending[]) => new Set(requests.map((r) => r.now.toISOString().slice(0, 10))).size === 1;

// Whether two requests send the same event id for one app (copies within one request are its own business).
function shareAnId(requests: Pending[]): boolean {
  const seen = new Map<string, number>();
  return requests.some(({ appId, parsed }, request) =>
    parsed.some(({ event }) => {
      const key = keyOf(appId, event.id);
      const by = seen.get(key);
      seen.set(key, request);
      return by !== undefined && by !== request;
    }),
  );
}

@Injectable()
export class IngestionService {
  private readonly logger = new Logger(IngestionService.name);
  private readonly groups: GroupCommit<Pending, Judged>;
  // No feed lives under the Podcast Index API's URL: a feedUrl there is refused, never read as a feed.
  private readonly podcastIndexApi: URL;

  constructor(
    pool: SqlPool,
    private readonly jobs: JobQueue,
    private readonly tenants: TenantsService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.podcastIndexApi = new URL(config.PODCAST_INDEX_API_URL);
    this.groups = new GroupCommit<Pending, Judged>(
      pool,
      { maxWeight: config.INGEST_GROUP_MAX_EVENTS, maxInFlight: SQL_POOL_SIZE },
      (client, requests) => this.storeGroup(client, requests),
      (judged) => this.requestApply(judged.flatMap((j) => j.storedRows)),
    );
  }

  // Judges each event on its own, so one bad event never keeps the others out (an app resending an offline queue
  // is never stuck behind it): the valid ones that fit every ceiling and cap are stored (PostgreSQL is the durable
  // queue of record), then the worker is asked to apply them. Only a malformed request as a whole is refused.
  // An event id counts once per app, ever: the unique (app_id, event_id) index decides, also between api instances.
  // Order of judging: the schema; an id stored before (duplicate or conflict, whatever ceilings changed since);
  // an earlier copy in the request that stands for the id; MAX_EVENT_SATS, listenerId, MAX_REQUEST_SATS; the caps.
  // The schema is judged here, the rest in a group commit (GroupCommit): concurrent requests share one transaction
  // (most often a single statement: storeAtOnce), and each is answered after the commit that stores its events.
  async ingest(appId: string, body: unknown, now = new Date()): Promise<IngestResult> {
    const envelope = ingestRequestSchema.safeParse(body);
    if (!envelope.success) throw AppError.validation(toIssues(envelope.error), 'the request is invalid; nothing was accepted');
    const checked: EventResult[] = envelope.data.events.map((raw, index) => ({ index, id: idOf(raw), status: 'rejected' }));
    const parsed = withSuggestionBudget(MAX_SUGGESTIONS_PER_REQUEST, () => this.parse(envelope.data.events, rejecter(checked)));
    const { results } = parsed.length ? await this.groups.run({ appId, parsed, checked, now }, { weight: parsed.length, order: appId }) : { results: checked };
    const count = (status: EventVerdict) => results.filter((r) => r.status === status).length;
    return { accepted: count('accepted'), duplicates: count('duplicate'), conflicts: count('conflict'), rejected: count('rejected'), events: results };
  }

  // Most groups need no judging before their insert (storableAtOnce): their one statement commits on its own. The
  // others, and those whose statement fails (a cap reached, a listener id missing, anything else), are judged in a
  // transaction (judgeGroup); a statement that fails stored nothing. Each group is counted by the way it was stored
  // (splitstream_ingest_groups_total), so a fast path that stopped working shows.
  private async storeGroup(client: pg.ClientBase, requests: Pending[]): Promise<Outcome<Judged>[]> {
    let path: IngestGroupPath = 'judged_before_insert';
    if (this.storableAtOnce(requests)) {
      const once = await this.storeAtOnce(client, requests);
      if (Array.isArray(once)) {
        this.metrics.ingestGroups.inc({ path: 'one_statement' });
        return once;
      }
      path = once;
    }
    this.metrics.ingestGroups.inc({ path });
    return transactionOn(client, () => this.judgeGroup(client, requests));
  }

  // Whether what is judged before an insert (an id stored before, copies of an id, the ceilings) can change no
  // answer of the group: no id twice in it, no event over MAX_EVENT_SATS, no request over MAX_REQUEST_SATS with
  // all its events counted (an event stored before would only have lowered that sum), and one UTC day. Then every
  // event the insert does not store was stored before (or concurrently), and the caps it reads are the ones in force.
  private storableAtOnce(requests: Pending[]): boolean {
    const ceiling = this.ceilingsMsat();
    const ids = new Set<string>();
    return (
      onOneUtcDay(requests) &&
      requests.every(({ appId, parsed }) => {
        let total = 0n;
        for (const { event, amountMsat } of parsed) {
          const key = keyOf(appId, event.id);
          if (ids.has(key) || amountMsat > ceiling.event) return false;
          ids.add(key);
          total += amountMsat;
        }
        return total <= ceiling.request;
      })
    );
  }

  // The group in one statement outside a transaction (store, with the caps read from the app rows): each event it
  // stored is accepted, each other one was stored before (a duplicate or a conflict). When the statement failed, or
  // stored nothing because an app with a listener cap sent an event without listenerId, why (the group is then
  // judged in a transaction). After the statement, what it stored is committed: a request whose resent events cannot
  // be judged (the connection lost) is answered with that error alone; sent again, its events are duplicates.
  private async storeAtOnce(client: pg.ClientBase, requests: Pending[]): Promise<Outcome<Judged>[] | IngestGroupPath> {
    const rows = requests.flatMap(({ appId, parsed }) => parsed.map((candidate) => ({ appId, candidate })));
    let inserted: Map<string, bigint> | undefined;
    try {
      inserted = await this.store(client, rows, { readAt: requests[0]!.now });
    } catch (error) {
      if (capBreachOf(error)) return 'after_cap_reached';
      this.logger.warn(`a group's single statement failed (${(error as Error).message}); judging it in a transaction`);
      return 'after_statement_error';
    }
    if (!inserted) return 'after_listener_id_missing';
    const outcomes: Outcome<Judged>[] = [];
    for (const { appId, parsed, checked } of requests) {
      const results = checked.map((result) => ({ ...result }));
      const storedRows: bigint[] = [];
      const resent: Candidate[] = [];
      for (const candidate of parsed) {
        const id = inserted.get(keyOf(appId, candidate.event.id));
        if (id === undefined) resent.push(candidate);
        else {
          results[candidate.index]!.status = 'accepted';
          storedRows.push(id);
        }
      }
      try {
        await this.judgeResent(client, appId, resent, results);
        outcomes.push({ ok: true, value: { results, storedRows } });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }

  // A group's requests are judged together, in a few statements whatever their number (one read, one insert),
  // which gives each the answer it would get alone as long as no two of them send the same event id and no cap is
  // reached (counters only grow, so a group that fits every cap in total fits them at each request). Otherwise, or
  // when anything fails, the group's work so far is undone and each request is judged alone, in order, under its own
  // savepoint: one request's cap breach or error never changes another's answer.
  private async judgeGroup(client: pg.ClientBase, requests: Pending[]): Promise<Outcome<Judged>[]> {
    if (requests.length > 1 && onOneUtcDay(requests) && !shareAnId(requests)) {
      const together = await inSavepoint(client, () => this.judgeTogether(client, requests));
      if (together.ok) return together.value.map((value) => ({ ok: true, value }));
    }
    const outcomes: Outcome<Judged>[] = [];
    for (const request of requests) outcomes.push(await inSavepoint(client, (restart) => this.judgeTogether(client, [request], restart).then(([one]) => one!)));
    return outcomes;
  }

  // Judges requests with one read (ids stored before, caps in force) and one insert for all of them. Alone (with
  // `restart`), a request that breaks a cap has its events stored one by one (storeEach); together, a breach throws.
  private async judgeTogether(client: pg.ClientBase, requests: Pending[], restart?: () => Promise<void>): Promise<Judged[]> {
    const { stored, caps } = await this.storedBefore(client, requests, true);
    const judging = requests.map((pending, request) => this.judgeBeforeInsert(pending, stored.get(request)!, caps.get(pending.appId)!));
    const rows = judging.flatMap(({ pending, standing }) => [...standing.values()].map((candidate) => ({ appId: pending.appId, candidate })));
    const periods = new Map(judging.map((one) => [one.pending.appId, one.periods]));
    let inserted: Map<string, bigint>;
    let breached = false;
    try {
      // Never undefined here: the ceilings refused every event without the listener id its app's cap needs.
      inserted = (await this.store(client, rows, { given: periods }))!;
    } catch (error) {
      if (!restart || !capBreachOf(error)) throw error;
      // The statement read nothing this request needs again, and wrote nothing that stays.
      await restart();
      breached = true;
      inserted = new Map();
    }
    const judged: Judged[] = [];
    for (const one of judging) {
      const { appId } = one.pending;
      const events = [...one.standing.values()];
      const first: Stored = breached
        ? await this.storeEach(client, appId, events, one.periods)
        : {
            stored: new Map(
              events.flatMap((c) => {
                const id = inserted.get(keyOf(appId, c.event.id));
                return id === undefined ? [] : [[c.index, id] as const];
              }),
            ),
            breaches: new Map(),
          };
      judged.push(await this.judgeAfterInsert(client, one, first));
    }
    return judged;
  }

  // A copy of an id that passes the ceilings stands for it; the others are repeats (same content) or later copies.
  private judgeBeforeInsert(pending: Pending, stored: Map<number, boolean>, caps: AppCaps): Judging {
    const results = pending.checked.map((result) => ({ ...result })); // its own copy: a request may be judged again
    const reject = rejecter(results);
    const standing = new Map<string, Candidate>();
    const repeats: Judging['repeats'] = [];
    const later: Candidate[] = [];
    const ceilings = this.ceilings(caps.listenerDayCapMsat !== null, reject);
    for (const candidate of pending.parsed) {
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
    return { pending, results, reject, standing, repeats, later, ceilings, periods: capPeriods(caps, pending.now) };
  }

  private async judgeAfterInsert(client: pg.ClientBase, judging: Judging, first: Stored): Promise<Judged> {
    const { pending, results, reject, standing, repeats, later, ceilings, periods } = judging;
    const { appId, now } = pending;
    const storedRows: bigint[] = [];
    const settle = async (events: Candidate[], { stored, breaches }: Stored) => {
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
        client,
        appId,
        events.filter((c) => !stored.has(c.index) && !breaches.has(c.index)),
        results,
      );
      return breaches;
    };
    const breaches = await settle([...standing.values()], first);
    // A copy with other content than the one standing for its id conflicts with it, unless a cap refused that one:
    // then the later copies are judged on their own, in one more call that stores the first of them that fits (the
    // others are then duplicates or conflicts of it).
    const retry = later.filter((c) => breaches.has(standing.get(c.event.id)!.index));
    for (const c of later) {
      const standingCopy = standing.get(c.event.id)!;
      if (breaches.has(standingCopy.index)) continue;
      this.conflict(
        results[c.index]!,
        `event id ${JSON.stringify(c.event.id)} comes earlier in this request (${eventPath(standingCopy.index)}) with different content; nothing changed`,
      );
    }
    const fitting = retry.filter(ceilings);
    if (fitting.length) await settle(fitting, await this.storeEach(client, appId, fitting, periods));

    // A repeat within the request gets its first's answer: stored now or before, it is a duplicate.
    for (const { index, of } of repeats) {
      const firstCopy = results[of.index]!;
      const status = firstCopy.status === 'accepted' ? 'duplicate' : firstCopy.status;
      const issues = firstCopy.issues?.map((issue) => ({ ...issue, path: issue.path.replace(/^events\[\d+\]/, eventPath(index)) }));
      Object.assign(results[index]!, { status, ...(firstCopy.code && { code: firstCopy.code }), ...(issues && { issues }) });
    }
    return { results, storedRows };
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
      const parsed = parseListeningEvent(raw);
      if (!parsed.success) {
        const issues = capIssues(toIssues(parsed.error, ['events', index]), Math.min(MAX_ISSUES_PER_EVENT, issuesLeft), eventPath(index));
        issuesLeft -= issues.length;
        return void reject(index, ErrorCode.InvalidRequest, issues);
      }
      const event = parsed.data;
      if (event.value === undefined && event.feedUrl !== undefined && isUnder(new URL(event.feedUrl), this.podcastIndexApi)) {
        const message = 'is on the Podcast Index API: send the GUIDs without feedUrl, the worker asks the index itself';
        issuesLeft -= 1;
        return void reject(index, ErrorCode.InvalidRequest, [{ path: eventPath(index, 'feedUrl'), message }]);
      }
      candidates.push({
        index,
        event,
        payload: payloadOf(event satisfies ListeningPayload),
        amountMsat: eventAmountMsat(event.satsPerMinute, event.seconds),
      });
    });
    return candidates;
  }

  private conflict(result: EventResult, message: string): void {
    Object.assign(result, { status: 'conflict', issues: [{ path: eventPath(result.index, 'id'), message }] });
  }

  // MAX_EVENT_SATS and MAX_REQUEST_SATS in msat, as configured now.
  private ceilingsMsat(): { event: bigint; request: bigint } {
    return { event: BigInt(this.config.MAX_EVENT_SATS) * MSAT_PER_SAT, request: BigInt(this.config.MAX_REQUEST_SATS) * MSAT_PER_SAT };
  }

  // MAX_EVENT_SATS per event, listenerId when the app has a listener cap, and MAX_REQUEST_SATS per request: the
  // events in order until their total would exceed it, the rest refused (sent again in a later request, they fit).
  // Events stored before never reach it, so resending them costs nothing of the request's total.
  private ceilings(listenerCapped: boolean, reject: (index: number, code: EventRejectionCode, issues: ValidationIssue[]) => void) {
    const { MAX_EVENT_SATS, MAX_REQUEST_SATS } = this.config;
    const ceiling = this.ceilingsMsat();
    let total = 0n;
    return ({ index, event, amountMsat }: Candidate): boolean => {
      if (amountMsat > ceiling.event) {
        const message = `the event is worth ${amountMsat} msat; at most ${MAX_EVENT_SATS} sats (MAX_EVENT_SATS) per event`;
        reject(index, ErrorCode.EventAmountTooLarge, [{ path: eventPath(index, 'satsPerMinute'), message }]);
      } else if (listenerCapped && event.listenerId === undefined) {
        reject(index, ErrorCode.ListenerIdRequired, [{ path: eventPath(index, 'listenerId'), message: 'is required: the app has a per-listener daily cap' }]);
      } else if ((total += amountMsat) > ceiling.request) {
        const message = `the request's events up to this one are worth ${total} msat; at most ${MAX_REQUEST_SATS} sats (MAX_REQUEST_SATS) per request: send it in another request`;
        reject(index, ErrorCode.RequestAmountTooLarge, [{ path: eventPath(index), message }]);
      } else return true;
      return false;
    };
  }

  // For each request, the events whose id its app stored before: whether the stored payload is this one (compared
  // as jsonb, exactly: no hash to collide, no column to add); with `withCaps`, each app's caps in force too, read in
  // the same round trip, inside the transaction that charges them. One statement for all the requests, which sends
  // only the ids; the payloads of the few ids found go in a second one.
  private async storedBefore(client: pg.ClientBase, requests: Pending[], withCaps: boolean) {
    const events = requests.flatMap(({ appId, parsed }, request) => parsed.map((c) => ({ request, appId, c })));
    const apps = withCaps ? [...new Set(requests.map((r) => r.appId))] : [];
    const { rows } = await client.query<{ ord: string | null; id: string | null; app: string | null } & CapColumns>(
      `SELECT e.ord::text, l.id::text, NULL AS app, NULL AS day_cap_msat, NULL AS month_cap_msat, NULL AS listener_day_cap_msat
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS e(app_id, event_id, ord)
       JOIN listening_event l ON l.app_id = e.app_id AND l.event_id = e.event_id
       UNION ALL
       SELECT NULL, NULL, a.id, a.day_cap_msat::text, a.month_cap_msat::text, a.listener_day_cap_msat::text FROM app a WHERE a.id = ANY($3::text[])`,
      [events.map((e) => e.appId), events.map((e) => e.c.event.id), apps],
    );
    const found = rows.filter((row) => row.ord !== null).map((row) => ({ id: row.id!, event: events[Number(row.ord) - 1]! }));
    const same = found.length
      ? (
          await client.query<{ ord: string; same: boolean }>(
            `SELECT p.ord::text, l.payload = p.payload AS same
             FROM ROWS FROM (unnest($1::bigint[]), jsonb_array_elements($2::jsonb)) WITH ORDINALITY AS p(id, payload, ord)
             JOIN listening_event l ON l.id = p.id`,
            [found.map((f) => f.id), jsonArray(found.map((f) => f.event.c.payload))],
          )
        ).rows
      : [];
    const stored = new Map(requests.map((_, request) => [request, new Map<number, boolean>()]));
    // A stored event is never deleted: each id found has its row (and is judged a conflict if it had not).
    const sameAt = new Map(same.map((row) => [Number(row.ord) - 1, row.same]));
    found.forEach(({ event }, k) => stored.get(event.request)!.set(event.c.index, sameAt.get(k) === true));
    const own = new Map(rows.filter((row) => row.app !== null).map((row) => [row.app!, row]));
    const bigintOrNull = (value: string | null | undefined) => (value == null ? null : BigInt(value));
    const caps = new Map(
      apps.map((app) => {
        const row = own.get(app);
        const appCaps = this.tenants.capsOf({
          dayCapMsat: bigintOrNull(row?.day_cap_msat),
          monthCapMsat: bigintOrNull(row?.month_cap_msat),
          listenerDayCapMsat: bigintOrNull(row?.listener_day_cap_msat),
        });
        return [app, appCaps] as const;
      }),
    );
    return { stored, caps };
  }

  // When the one insert of a request breaks a cap (and so stored nothing), its events are stored one by one, in
  // request order, by one call of splitstream_store_fitting (its migration), so exactly the events that fit are
  // stored and each that does not is named with the cap it breaks, in one round trip whatever the number of events.
  // Both charge their caps under the counters' row locks, so concurrent requests of one app never overshoot a cap.
  private async storeEach(client: pg.ClientBase, appId: string, events: Candidate[], caps: CapPeriods): Promise<Stored> {
    if (!events.length) return { stored: new Map(), breaches: new Map() };
    const { rows } = await client.query<{ ord: number; id: string | null; period: string | null; total: string; charged: string; cap: string }>(
      `SELECT ord, id, period, total, charged, cap FROM splitstream_store_fitting($1, $2::text[], $3::text[], $4::bigint[], $5::text[], $6, $7::bigint, $8, $9::bigint, $10, $11::bigint)`,
      [
        appId,
        events.map((c) => c.event.id),
        events.map((c) => c.payload),
        events.map((c) => String(c.amountMsat)),
        events.map((c) => c.event.listenerId ?? null),
        caps.day,
        String(caps.dayCapMsat),
        caps.month,
        String(caps.monthCapMsat),
        caps.listenerPrefix,
        msatOrNull(caps.listenerDayCapMsat),
      ],
    );
    const stored = new Map<number, bigint>();
    const breaches = new Map<number, CapBreach>();
    for (const { ord, id, period, total, charged, cap } of rows) {
      const index = events[ord - 1]!.index;
      if (period !== null) breaches.set(index, { period, total: BigInt(total), charged: BigInt(charged), cap: BigInt(cap) });
      else if (id !== null) stored.set(index, BigInt(id));
    }
    return { stored, breaches };
  }

  // Events the insert did not store, their id stored before (long ago, by a concurrent request, or by an earlier
  // request of its group): a duplicate when the stored payload is this one, else a conflict (nothing changed). A separate statement because a copy a
  // concurrent transaction committed while the insert waited on it is not in the insert statement's snapshot.
  private async judgeResent(client: pg.ClientBase, appId: string, events: Candidate[], results: EventResult[]): Promise<void> {
    if (!events.length) return;
    const { stored } = await this.storedBefore(client, [{ appId, parsed: events, checked: [], now: new Date(0) }], false);
    const same = stored.get(0)!;
    for (const { index, event } of events) {
      if (same.get(index)) results[index]!.status = 'duplicate';
      else this.conflict(results[index]!, storedConflict(event.id));
    }
  }

  // One statement for any number of requests: stores the new events, adds them to their apps' spend counters and
  // checks each counter against its cap; a counter over its cap raises (splitstream_check_spend), which undoes the
  // events and the counters alike. Counters are upserted in (app, period) order, so concurrent transactions lock them
  // in one order (no deadlock) and queue on them. The stored rows' ids by app and event id (one row per app and id:
  // a group with a shared id is judged request by request). The caps: `given` (each app's, as judged before the
  // insert; one UTC day), or read by the statement from the app rows (`readAt`: the defaults where an app has none).
  // Nothing is stored, and undefined returned, when an app with a listener cap sent an event without listenerId.
  private async store(
    client: pg.ClientBase,
    rows: Row[],
    caps: { given: Map<string, CapPeriods> } | { readAt: Date },
  ): Promise<Map<string, bigint> | undefined> {
    if (!rows.length) return new Map();
    const columns = '(app_id, day, day_cap, month, month_cap, listener_prefix, listener_cap)';
    let capsQuery: string;
    let capsValues: unknown[];
    if ('given' in caps) {
      const periods = [...caps.given.values()];
      capsQuery = `SELECT * FROM unnest($6::text[], $7::text[], $8::bigint[], $9::text[], $10::bigint[], $11::text[], $12::bigint[]) AS caps${columns}`;
      capsValues = [
        [...caps.given.keys()],
        periods.map((p) => p.day),
        periods.map((p) => String(p.dayCapMsat)),
        periods.map((p) => p.month),
        periods.map((p) => String(p.monthCapMsat)),
        periods.map((p) => p.listenerPrefix),
        periods.map((p) => msatOrNull(p.listenerDayCapMsat)),
      ];
    } else {
      const defaults = capPeriods(this.tenants.capsOf(null), caps.readAt);
      capsQuery = `SELECT a.app_id, $7::text, coalesce(x.day_cap_msat, $8::bigint), $9::text, coalesce(x.month_cap_msat, $10::bigint), $11::text, x.listener_day_cap_msat
        FROM unnest($6::text[]) AS a(app_id) LEFT JOIN app x ON x.id = a.app_id`;
      const { day, dayCapMsat, month, monthCapMsat, listenerPrefix } = defaults;
      capsValues = [[...new Set(rows.map((r) => r.appId))], day, String(dayCapMsat), month, String(monthCapMsat), listenerPrefix];
    }
    const { rows: inserted } = await client.query<{ id: string | null; app_id: string | null; event_id: string | null; unnamed: string }>(
      `WITH e AS (
        SELECT * FROM ROWS FROM (unnest($1::text[]), unnest($2::text[]), jsonb_array_elements($3::jsonb), unnest($4::bigint[]), unnest($5::text[]))
          AS e(app_id, event_id, payload, amount_msat, listener_id)
      ), caps${columns} AS (
        ${capsQuery}
      ), unnamed AS (
        -- Events without the listener id their app's listener cap needs: while there is one, nothing is stored.
        SELECT count(*) AS n FROM e JOIN caps k USING (app_id) WHERE k.listener_cap IS NOT NULL AND e.listener_id IS NULL
      ), inserted AS (
        INSERT INTO listening_event (app_id, event_id, payload, amount_msat, listener_id)
        SELECT app_id, event_id, payload, amount_msat, listener_id FROM e WHERE (SELECT n FROM unnamed) = 0
        ORDER BY app_id, event_id -- one lock order for transactions that share event ids
        ON CONFLICT (app_id, event_id) DO NOTHING
        RETURNING id, app_id, event_id, amount_msat, listener_id
      ), charges AS (
        SELECT i.app_id, c.period, c.cap, SUM(i.amount_msat)::bigint AS msat
        FROM inserted i JOIN caps k USING (app_id)
        CROSS JOIN LATERAL (VALUES (k.day, k.day_cap), (k.month, k.month_cap), (k.listener_prefix || i.listener_id, k.listener_cap)) AS c(period, cap)
        WHERE c.period IS NOT NULL AND c.cap IS NOT NULL
        GROUP BY i.app_id, c.period, c.cap
      ), spent AS (
        INSERT INTO app_spend (app_id, period, msat)
        SELECT app_id, period, msat FROM charges WHERE msat > 0 ORDER BY app_id, period
        ON CONFLICT (app_id, period) DO UPDATE SET msat = app_spend.msat + EXCLUDED.msat
        RETURNING app_id, period, msat
      ), checked AS (
        -- ORDER BY: the check runs in (app, period) order, so the first cap a request breaks is always the same one.
        SELECT splitstream_check_spend(s.period, s.msat, c.msat, c.cap) AS ok FROM spent s JOIN charges c USING (app_id, period) ORDER BY s.app_id, s.period
      )
      SELECT i.id, i.app_id, i.event_id, u.n::text AS unnamed
      FROM unnamed u LEFT JOIN (SELECT * FROM inserted, (SELECT bool_and(ok) FROM checked) AS all_checked) i ON true`,
      [
        rows.map((r) => r.appId),
        rows.map((r) => r.candidate.event.id),
        jsonArray(rows.map((r) => r.candidate.payload)),
        rows.map((r) => String(r.candidate.amountMsat)),
        rows.map((r) => r.candidate.event.listenerId ?? null),
        ...capsValues,
      ],
    );
    if (inserted[0]!.unnamed !== '0') return undefined;
    return new Map(inserted.flatMap((row) => (row.id === null ? [] : [[keyOf(row.app_id!, row.event_id!), BigInt(row.id)] as const])));
  }

  // Best effort, once per group commit: when Redis is down the events are already stored, and the worker's sweep
  // applies them later.
  private async requestApply(ids: bigint[]): Promise<void> {
    try {
      for (let start = 0; start < ids.length; start += APPLY_JOB_EVENTS) {
        await this.jobs.enqueue(APPLY_EVENTS, { eventIds: ids.slice(start, start + APPLY_JOB_EVENTS).map(String) });
      }
    } catch (error) {
      this.logger.warn(`events stored but not queued (${(error as Error).message}); the worker's sweep will apply them`);
    }
  }
}
