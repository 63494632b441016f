import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { type Caller, CurrentCaller, RequireScope, Scope, tenantOf } from '@splitstream/auth';
import { AppError, ErrorCode } from '@splitstream/errors';
import { toIssues } from '@splitstream/money';
import { PAYMENT_LIST_STATUSES, PaymentVerdicts, PayoutQueries, ReconcileRequests, type ReconcileRequestResult } from '@splitstream/payouts';
import { Cursors } from '../http/cursors.js';
import { DATABASE_ID, databaseId, foundById, pageQuery, parseQuery, timestamp } from '../http/params.js';

const hex64 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters');
export const verdictSchema = z.discriminatedUnion(
  'outcome',
  [
    // Proof of payment: a preimage of the payment's hash. (A look in the wallet's records is POST .../check.)
    z.object({ outcome: z.literal('succeeded'), preimage: hex64 }).strict(),
    // Without evidence: an admin's explicit override, confirmed, with its reason; recorded as an audit entry.
    z
      .object({
        outcome: z.literal('failed'),
        confirm: z.literal(true, { error: 'must be true: marking a payment not paid without evidence can pay its recipient twice' }),
        reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(500),
      })
      .strict(),
  ],
  { error: 'outcome must be "succeeded" or "failed"' },
);

export const paymentListQuery = {
  ...pageQuery,
  status: z.enum(PAYMENT_LIST_STATUSES, { error: `must be one of ${PAYMENT_LIST_STATUSES.join(', ')}` }).optional(),
  recipient: databaseId('recipient').optional(),
  payout: databaseId('payout').optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
};

// Payments: keysends and invoice payments. /v1/keysends is the same API under its former name.
@Controller(['v1/payments', 'v1/keysends'])
export class PaymentsController {
  constructor(
    private readonly verdicts: PaymentVerdicts,
    private readonly queries: PayoutQueries,
    private readonly reconciliations: ReconcileRequests,
    private readonly cursors: Cursors,
  ) {}

  // Newest first: what operators look at (status=unknown|failed|parked) and creators' payment history.
  @Get()
  @RequireScope(Scope.PayoutsRead)
  list(@Query() query: unknown, @CurrentCaller() caller: Caller) {
    const { recipient, payout, before, ...filter } = parseQuery(paymentListQuery, query);
    return this.cursors.page(caller, 'payments', before, (id) =>
      this.queries.keysends({ ...filter, before: id, tenant: tenantOf(caller), recipientId: recipient, payoutId: payout }),
    );
  }

  @Get(':id')
  @RequireScope(Scope.PayoutsRead)
  async get(@Param('id') id: string, @CurrentCaller() caller: Caller) {
    return foundById('payment', id, (paymentId) => this.queries.keysend(tenantOf(caller), paymentId));
  }

  // Settles a payment whose outcome is unknown, on a preimage (any key of its app) or, marking it not paid
  // without evidence, an admin's confirmed override. Either is recorded as a verdict the payment shows.
  @Post(':id/resolve')
  @HttpCode(HttpStatus.OK)
  @RequireScope(Scope.PayoutsWrite)
  async resolve(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller) {
    if (!DATABASE_ID.test(id)) throw AppError.notFound(`payment ${id}`);
    const parsed = verdictSchema.safeParse(body);
    if (!parsed.success) throw AppError.validation(toIssues(parsed.error));
    if (parsed.data.outcome === 'failed' && !caller.scopes.includes(Scope.Admin)) {
      throw new AppError(
        ErrorCode.Forbidden,
        'only an admin key may mark an unknown payment not paid without evidence; check the wallet instead (POST /v1/payments/:id/check)',
      );
    }
    const result = await this.verdicts.decide(BigInt(id), tenantOf(caller), parsed.data, `api key ${caller.keyId} (${caller.app})`);
    switch (result.kind) {
      case 'not_found':
        throw AppError.notFound(`payment ${id}`);
      case 'not_unknown':
        throw new AppError(ErrorCode.Conflict, `payment ${id} is ${result.status}, not unknown: nothing to resolve`);
      case 'busy':
        throw new AppError(ErrorCode.Conflict, 'a reconciliation is running and may be sending this payment again: try again in a minute');
      case 'bad_evidence':
        throw new AppError(ErrorCode.UnprocessableEvidence, result.message);
      case 'settled':
        return this.queries.keysend(tenantOf(caller), BigInt(id));
    }
  }

  // Looks unknown payments up in the wallet's records now: the worker does it (the api holds no wallet). An admin
  // key's covers every app's unknown payments; any other key's only its app's. 200 with the report when the
  // worker finishes within RECONCILE_WAIT_MS, else 202 { status: 'queued', jobId } (the worker still runs it).
  @Post('reconcile')
  @HttpCode(HttpStatus.OK)
  @RequireScope(Scope.PayoutsWrite)
  async reconcile(@CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = settledOrQueued(await this.reconciliations.request({ tenant: tenantOf(caller) }));
    if (result.status === 'queued') {
      reply.status(HttpStatus.ACCEPTED);
      return { status: result.status, jobId: result.jobId };
    }
    return result.report;
  }

  // Looks one unknown payment of the caller's app up in the wallet's records (by the worker): the payment as it
  // is after the check, with the report; 202 { status: 'queued', jobId } when the worker has not finished in time.
  @Post(':id/check')
  @HttpCode(HttpStatus.OK)
  @RequireScope(Scope.PayoutsWrite)
  async check(@Param('id') id: string, @CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: FastifyReply) {
    const tenant = tenantOf(caller);
    const payment = await foundById('payment', id, (paymentId) => this.queries.keysend(tenant, paymentId));
    if (payment.status !== 'unknown') throw new AppError(ErrorCode.Conflict, `payment ${id} is ${payment.status}, not unknown: nothing to check`);
    const result = settledOrQueued(await this.reconciliations.request({ tenant, paymentIds: [BigInt(id)] }));
    if (result.status === 'queued') {
      reply.status(HttpStatus.ACCEPTED);
      return { status: result.status, jobId: result.jobId };
    }
    return { ...(await this.queries.keysend(tenant, BigInt(id)))!, report: result.report };
  }
}

// A reconciliation that failed for good (after its retries) is a 503: nothing was decided, retry shortly.
function settledOrQueued(result: ReconcileRequestResult): Exclude<ReconcileRequestResult, { status: 'failed' }> {
  if (result.status === 'failed') throw new AppError(ErrorCode.ServiceUnavailable, `the worker could not reconcile (${result.reason}); retry shortly`);
  return result;
}
