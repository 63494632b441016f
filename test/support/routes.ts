import { Scope } from '@splitstream/auth';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';

// Every /v1 route, the scope it needs, and a body that would pass validation.
export const ROUTES: { method: 'GET' | 'POST'; path: string; scope: Scope; body?: unknown }[] = [
  { method: 'POST', path: '/v1/events', scope: Scope.EventsWrite, body: { events: [] } },
  { method: 'GET', path: '/v1/events', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/events/some-id', scope: Scope.PayoutsRead },
  { method: 'POST', path: '/v1/events/retry', scope: Scope.EventsWrite, body: {} },
  { method: 'POST', path: '/v1/boosts', scope: Scope.EventsWrite, body: {} },
  { method: 'GET', path: '/v1/boosts', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/boosts/some-id', scope: Scope.PayoutsRead },
  { method: 'POST', path: '/v1/payouts/run', scope: Scope.PayoutsWrite, body: {} },
  { method: 'GET', path: '/v1/payouts', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/payouts/1', scope: Scope.PayoutsRead },
  { method: 'GET', path: `/v1/recipients?address=${pubkey(1)}`, scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/recipients/1', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/recipients/top', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/payouts/paid-per-hour', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/recipients/1/statement', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/keysends?status=unknown', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/keysends/1', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/feeds/some-feed/summary', scope: Scope.PayoutsRead },
  { method: 'POST', path: '/v1/recipients/unpark', scope: Scope.PayoutsWrite, body: { address: pubkey(1) } },
  { method: 'GET', path: '/v1/summary', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/ledger/check', scope: Scope.Admin },
  { method: 'POST', path: '/v1/keysends/1/resolve', scope: Scope.PayoutsWrite, body: { outcome: 'failed' } },
  { method: 'POST', path: '/v1/keysends/reconcile', scope: Scope.PayoutsWrite, body: {} },
  { method: 'POST', path: '/v1/payments/reconcile', scope: Scope.PayoutsWrite, body: {} },
  { method: 'POST', path: '/v1/payments/1/check', scope: Scope.PayoutsWrite, body: {} },
  { method: 'POST', path: '/v1/keysends/1/check', scope: Scope.PayoutsWrite, body: {} },
  // /v1/payments is the name; /v1/keysends (above) its alias.
  { method: 'GET', path: '/v1/payments?status=unknown', scope: Scope.PayoutsRead },
  { method: 'GET', path: '/v1/payments/1', scope: Scope.PayoutsRead },
  { method: 'POST', path: '/v1/payments/1/resolve', scope: Scope.PayoutsWrite, body: { outcome: 'failed' } },
];
