import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { type Caller, CurrentCaller, RequireScope, Scope, tenantOf } from '@splitstream/auth';
import { AppError, ErrorCode } from '@splitstream/errors';
import { toIssues } from '@splitstream/money';
import { KEYSEND_LIST_STATUSES, KeysendResolutions, PayoutQueries, Reconciliation } from '@splitstream/payouts';
import { DATABASE_ID, databaseId, foundById, pageQuery, parseQuery, timestamp } from '../http/params.js';

const hex64 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters');
export const resolutionSchema = z.discriminatedUnion(
  'outcome',
  [
    // Proof of payment: the preimage (checked against the payment hash), or the wallet's own record, looked up.
    z.object({ outcome: z.literal('succeeded'), preimage: hex64.optional() }).strict(),
    z.object({ outcome: z.literal('failed'), reason: z.string().max(500).optional() }).strict(),
  ],
  { error: 'outcome must be "succeeded" or "failed"' },
);

export const keysendListQuery = {
  ...pageQuery('keysend'),
  status: z.enum(KEYSEND_LIST_STATUSES, { error: `must be one of ${KEYSEND_LIST_STATUSES.join(', ')}` }).optional(),
  recipient: databaseId('recipient').optional(),
  payout: databaseId('payout').optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
};

@Controller('v1/keysends')
export class KeysendsController {
  constructor(
    private readonly resolutions: KeysendResolutions,
    private readonly reconciliation: Reconciliation,
    private readonly queries: PayoutQueries,
  ) {}

  // Newest first: what operators look at (status=unknown|failed|parked) and creators' payment history.
  @Get()
  @RequireScope(Scope.PayoutsRead)
  list(@Query() query: unknown, @CurrentCaller() caller: Caller) {
    const { recipient, payout, ...filter } = parseQuery(keysendListQuery, query);
    return this.queries.keysends({ ...filter, tenant: tenantOf(caller), recipientId: recipient, payoutId: payout });
  }

  @Get(':id')
  @RequireScope(Scope.PayoutsRead)
  async get(@Param('id') id: string, @CurrentCaller() caller: Caller) {
    return foundById('keysend', id, (keysendId) => this.queries.keysend(tenantOf(caller), keysendId));
  }

  // Looks every unknown keysend up in the wallet's records now (the worker also does it on a schedule).
  @Post('reconcile')
  @HttpCode(HttpStatus.OK)
  @RequireScope(Scope.PayoutsWrite)
  reconcile() {
    return this.reconciliation.reconcile();
  }

  // Settles a keysend whose outcome is unknown; who did it and when is recorded on the keysend.
  @Post(':id/resolve')
  @HttpCode(HttpStatus.OK)
  @RequireScope(Scope.PayoutsWrite)
  async resolve(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller) {
    if (!DATABASE_ID.test(id)) throw AppError.notFound(`keysend ${id}`);
    const parsed = resolutionSchema.safeParse(body);
    if (!parsed.success) throw AppError.validation(toIssues(parsed.error));
    // A key without admin resolves its own app's keysends only.
    if (!(await this.queries.keysend(tenantOf(caller), BigInt(id)))) throw AppError.notFound(`keysend ${id}`);
    const result = await this.resolutions.resolve(BigInt(id), parsed.data, `api key ${caller.keyId} (${caller.app})`);
    switch (result.kind) {
      case 'not_found':
        throw AppError.notFound(`keysend ${id}`);
      case 'not_unknown':
        throw new AppError(ErrorCode.Conflict, `keysend ${id} is ${result.status}, not unknown: nothing to resolve`);
      case 'bad_evidence':
        throw new AppError(ErrorCode.UnprocessableEvidence, result.message);
      case 'resolved':
        return this.queries.keysend(tenantOf(caller), BigInt(id));
    }
  }
}
