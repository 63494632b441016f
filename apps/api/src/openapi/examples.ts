// The request examples of the OpenAPI document: one session against a fresh service, in this order. The
// document carries them (parameter examples, request body examples); test/e2e/openapi-examples.e2e-spec.ts sends
// each one, in this order, and expects a success status it documents.

export interface RouteExample {
  params?: Record<string, string>; // path parameters
  query?: Record<string, string | number>; // typed as the parameter's schema (a limit is a number)
  body?: unknown;
}

const HOST = '03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a';
const GUEST = '0383900f9bfbe600787c45e3054f36544ea21730ab865e9a5925e7d04d6eda338e';

// One minute of Podcasting 2.0 episode 229 at 10 sats a minute: 9 sats to the host, 1 to the guest.
// Its own id: the README's examples send app-generated-unique-id-1 with other content (a conflict here).
export const EXAMPLE_EVENT = {
  id: 'openapi-example-event-1',
  feedGuid: '917393e3-1b1e-5cef-ace4-edaa54e1f810',
  itemGuid: 'PC20-229',
  feedTitle: 'Podcasting 2.0',
  itemTitle: 'Episode 229: Value for Value',
  position: 1830,
  seconds: 60,
  satsPerMinute: 10,
  senderName: 'satoshi',
  appName: 'Podverse',
  listenerId: 'listener-5d41402a',
  value: {
    type: 'lightning',
    method: 'keysend',
    recipients: [
      { name: 'Podcasting 2.0 Host', type: 'node', address: HOST, split: 90 },
      { name: 'Guest', type: 'node', address: GUEST, split: 10 },
    ],
  },
};
export const EXAMPLE_RECIPIENTS = [HOST, GUEST];

// A 1000-sat boost with a message, 33 minutes into the same episode: 900 sats to the host, 100 to the guest, each
// payment carrying the message. Sent last: its payments come after the payments examples'.
export const EXAMPLE_BOOST = {
  id: 'openapi-example-boost-1',
  feedGuid: EXAMPLE_EVENT.feedGuid,
  itemGuid: EXAMPLE_EVENT.itemGuid,
  feedTitle: EXAMPLE_EVENT.feedTitle,
  itemTitle: EXAMPLE_EVENT.itemTitle,
  position: 1980,
  amountSats: 1000,
  message: 'Great episode! Boost from the value-for-value crowd',
  senderName: 'satoshi',
  appName: 'Podverse',
  listenerId: 'listener-5d41402a',
  value: EXAMPLE_EVENT.value,
};

// Keyed "METHOD /path" as ROUTE_DOCS. Database ids are those a fresh service gives: the first payout run, its first
// recipient and payments. The payments examples expect both payments unknown (sent, the answer lost): one is settled
// by an admin's override, the other looked up in the wallet, before a reconciliation that then has nothing to do.
export const ROUTE_EXAMPLES: Record<string, RouteExample> = {
  'POST /v1/events': { body: { events: [EXAMPLE_EVENT] } },
  'POST /v1/events/retry': { body: { feedGuid: EXAMPLE_EVENT.feedGuid, since: '2026-01-01T00:00:00Z' } },
  'GET /v1/events': { query: { feedGuid: EXAMPLE_EVENT.feedGuid, limit: 20 } },
  'GET /v1/events/{id}': { params: { id: EXAMPLE_EVENT.id } },
  'POST /v1/payouts/run': {},
  'GET /v1/payouts': { query: { empty: 'false', limit: 20 } },
  'GET /v1/payouts/paid-per-hour': { query: { hours: 24 } },
  'GET /v1/payouts/{id}': { params: { id: '1' } },
  'GET /v1/recipients': { query: { address: HOST } },
  'GET /v1/recipients/top': { query: { limit: 10 } },
  'GET /v1/recipients/{id}': { params: { id: '1' } },
  'GET /v1/recipients/{id}/statement': { params: { id: '1' } },
  'POST /v1/recipients/unpark': { body: { address: HOST } },
  'GET /v1/payments': { query: { status: 'unknown' } },
  'GET /v1/payments/{id}': { params: { id: '1' } },
  'POST /v1/payments/{id}/resolve': {
    params: { id: '1' },
    body: { outcome: 'failed', confirm: true, reason: 'the node operator says it never arrived' },
  },
  'POST /v1/payments/{id}/check': { params: { id: '2' } },
  'POST /v1/payments/reconcile': {},
  'GET /v1/feeds/{feedGuid}/summary': { params: { feedGuid: EXAMPLE_EVENT.feedGuid } },
  'GET /v1/summary': {},
  'GET /v1/ledger/check': {},
  'GET /v1/apps/me': {},
  'GET /health': {},
  'POST /v1/boosts': { body: EXAMPLE_BOOST },
  'GET /v1/boosts': { query: { feedGuid: EXAMPLE_BOOST.feedGuid, limit: 20 } },
  'GET /v1/boosts/{id}': { params: { id: EXAMPLE_BOOST.id } },
};
