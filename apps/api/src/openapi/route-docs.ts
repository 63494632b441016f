import { z } from 'zod';
import { listeningEventSchema, MAX_EVENTS_PER_REQUEST } from '@splitstream/ingestion';
import { boostSchema } from '@splitstream/boosts';
import { boostListQuery } from '../controllers/boosts.controller.js';
import { paymentListQuery, verdictSchema } from '../controllers/payments.controller.js';
import { paidPerHourQuery, payoutListQuery } from '../controllers/payouts.controller.js';
import { eventListQuery, eventQuery, eventRetrySchema } from '../controllers/events.controller.js';
import { recipientListQuery, statementQuery, topQuery, unparkSchema } from '../controllers/recipients.controller.js';
import * as s from './schemas.js';

export interface RouteDoc {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodRawShape;
  response: z.ZodType;
  accepted?: z.ZodType; // a 202 answer besides the route's status (work queued, not finished yet)
  errors: number[]; // besides those any route answers (buildOpenApiDocument: 400, 401/403 from the scope, 431, 500, 503)
  errorBodies?: Partial<Record<number, z.ZodType>>; // error answers that carry more than the one error shape
}

// What each route takes and answers, keyed "METHOD /path" as Nest maps it. The document is built from the
// controllers themselves (methods, paths, scopes, status codes); building it fails if a route is missing here.
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'POST /v1/events': {
    summary:
      'Submit 1 to 500 listening events, each judged on its own: the valid ones that fit every ceiling and cap are stored, each event gets a result (accepted, duplicate, conflict, or rejected with a code); each id counts once per app, ever. 202 when at least one event was stored now or before; 400 when the request is malformed, or events_rejected when none was (issues name each event with its code); 429 is rate limiting only',
    // Closed, as the service's ingestRequestSchema: an unknown top-level field makes the request invalid.
    body: z.strictObject({ events: z.array(listeningEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST) }),
    response: s.ingestResponse,
    errors: [429],
    errorBodies: { 400: s.ingestRefusedResponse },
  },
  'POST /v1/events/retry': {
    summary:
      "Apply set-aside events again once their feed is fixed (filters: feedGuid, itemGuid, feedUrl, received since/until; none: all). An app key retries its own app's events (403 naming another app), resetting their items' failures but not the backoff of a feed every app shares; an admin key every app's, or one app's with app (404 when no such app), and their feeds are read again at once. 429: more than EVENT_RETRY_RATE_LIMIT_PER_MINUTE requests for this app this minute",
    body: eventRetrySchema,
    response: s.eventRetryResponse,
    errors: [403, 404, 429],
  },
  'GET /v1/events': {
    summary:
      "Listening events, newest first, by feed (feedGuid), episode (itemGuid), status (applied, awaiting, set_aside) and received time (since, until): each a summary with its href (GET /v1/events/{id}). An app key lists its own app's events (403 naming another app); an admin key every app's, or one app's with ?app=<app id> (404 when no such app)",
    query: eventListQuery,
    response: s.eventListResponse,
    errors: [403, 404],
  },
  'GET /v1/events/{id}': {
    summary:
      "An event's per-recipient amounts and the keysends that paid them. Event ids are per app: an admin key reads another app's event with ?app=<app id> (404 when no such app); an app key reads only its own (403 naming another app)",
    query: eventQuery,
    response: s.eventResponse,
    errors: [403, 404],
  },
  'POST /v1/boosts': {
    summary:
      "Send a boost: a one-off payment with a message, split like a stream (fees first, the time split playing at its position), charged to the app's caps, and paid at once by its own job (every recipient's payment carries bLIP-10 action boost, the message, sender_name, value_msat_total and one boost_uuid). 202 with the boost; the same id with the same content is a duplicate (202, nothing changed), with other content a 409. A message that cannot fit the 1024-byte bLIP-10 record with the required fields is a 400 naming the limit (never cut)",
    body: boostSchema,
    response: s.boostReceiptResponse,
    errors: [409, 429],
  },
  'GET /v1/boosts': {
    summary:
      "Boosts, newest first, by feed (feedGuid), episode (itemGuid), recipient (an address the boost paid) and received time (since, until), with their messages: each a summary with its href. An app key lists its own app's boosts (403 naming another app); an admin key every app's, or one app's with ?app=<app id> (404 when no such app)",
    query: boostListQuery,
    response: s.boostListResponse,
    errors: [403, 404],
  },
  'GET /v1/boosts/{id}': {
    summary:
      "A boost with each recipient's share and its payments (status, amount), and what of each share joined the recipient's stream balance. Boost ids are per app: an admin key reads another app's with ?app=<app id>; an app key only its own (403 naming another app)",
    query: eventQuery,
    response: s.boostResponse,
    errors: [403, 404],
  },
  'POST /v1/payouts/run': {
    summary:
      'Start a payout run now: 202 and the new run; or, while a run is queued or running (runs pay every app), 200 and that run (started: false): no other run is started',
    response: s.payoutActiveResponse,
    accepted: s.payoutStartedResponse,
    errors: [429],
  },
  'GET /v1/payouts': {
    summary: 'Payout runs, newest first; empty=false leaves out the runs that had nothing due (the dashboard shows those only on request)',
    query: payoutListQuery,
    response: s.payoutListResponse,
    errors: [],
  },
  'GET /v1/payouts/paid-per-hour': {
    summary: 'Msat paid per hour, oldest first, every hour present',
    query: paidPerHourQuery,
    response: s.paidPerHourResponse,
    errors: [],
  },
  'GET /v1/payouts/{id}': { summary: 'One payout run with its totals and every keysend', response: s.payoutResponse, errors: [404] },
  'GET /v1/recipients': {
    summary: 'Recipients, newest first, with their owed, in-flight, parked and paid msat and retry state',
    query: recipientListQuery,
    response: s.recipientListResponse,
    errors: [],
  },
  'GET /v1/recipients/top': { summary: 'The recipients that earned most (accrued msat)', query: topQuery, response: s.topRecipientsResponse, errors: [] },
  'GET /v1/recipients/{id}': { summary: 'One recipient', response: s.recipientResponse, errors: [404] },
  'GET /v1/recipients/{id}/statement': {
    summary: "A creator's statement: totals per feed and episode and every keysend (JSON, or CSV with Accept: text/csv)",
    query: statementQuery,
    response: s.statementResponse,
    errors: [404],
  },
  'POST /v1/recipients/unpark': {
    summary:
      "Pay a parked recipient again from the next run: only the key's own app's parked money moves, unless an admin key names another app (app) or every app (allApps: true); an app key naming another app or all is refused (403); 404 when the apps named have no money for the recipient; changed: false when none had it parked",
    body: unparkSchema,
    response: s.unparkResponse,
    errors: [403, 404],
  },
  'GET /v1/payments': {
    summary: 'Payments (keysends and invoice payments), newest first, by status, recipient, payout and time',
    query: paymentListQuery,
    response: s.keysendListResponse,
    errors: [],
  },
  'GET /v1/payments/{id}': { summary: 'One payment, with the verdicts that settled it if its outcome was unknown', response: s.keysendResponse, errors: [404] },
  'GET /v1/feeds/{feedGuid}/summary': { summary: "A show's recipients: accrued, paid and owed msat each", response: s.feedSummaryResponse, errors: [404] },
  'GET /v1/apps/me': { summary: "This key's app, scopes, spend caps and what the app accepted today and this month", response: s.appResponse, errors: [] },
  'POST /v1/payments/{id}/resolve': {
    summary:
      'Settle a payment whose outcome is unknown: succeeded (proved by a preimage of its hash) or, admin only, failed without evidence (confirmed, with a reason)',
    body: verdictSchema,
    response: s.keysendResponse,
    errors: [404, 409, 422],
  },
  'POST /v1/payments/reconcile': {
    summary:
      "Look unknown payments up in the wallet's records now (the worker does it; the api holds no wallet): an admin key's covers every app, any other key's only its app's. 200 with the report, or 202 { status: 'queued', jobId } when the worker has not finished within about 20 s",
    response: s.reconcileResponse,
    accepted: s.reconcileQueuedResponse,
    errors: [],
  },
  'POST /v1/payments/{id}/check': {
    summary:
      "Look one unknown payment of this app up in the wallet's records (by the worker): the payment after the check, with the report; 202 { status: 'queued', jobId } when the worker has not finished within about 20 s",
    response: s.paymentCheckResponse,
    accepted: s.reconcileQueuedResponse,
    errors: [404, 409],
  },
  'GET /v1/summary': { summary: 'Totals: accrued, owed, in flight, paid, fees, unknown', response: s.summaryResponse, errors: [] },
  'GET /v1/ledger/check': {
    summary: 'Verify the ledger invariant now (500 when it does not hold, with the report)',
    response: s.ledgerCheckResponse,
    errors: [],
    errorBodies: { 500: s.ledgerBrokenResponse },
  },
  'GET /health': {
    summary:
      'Up or down: {status: ok} (200) or {status: error} (503) to anyone. With an admin key, the whole report: PostgreSQL and Redis reachability, the wallet and its balance as a worker last reported it (503 naming what does not answer; degraded when only the wallet refuses our credentials). Prometheus /metrics is not on this port: see METRICS_PORT',
    response: s.healthResponse,
    errors: [],
    errorBodies: { 503: s.healthDownResponse },
  },
};
