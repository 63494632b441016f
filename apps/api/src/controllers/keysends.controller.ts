import { Body, Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import { type Caller, CurrentCaller, RequireScope, Scope } from '@splitstream/auth';
import { AppError, ErrorCode } from '@splitstream/errors';
import { toIssues } from '@splitstream/money';
import { KeysendResolutions, PayoutQueries, Reconciliation } from '@splitstream/payouts';
import { DATABASE_ID } from '../http/params.js';

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

@Controller('v1/keysends')
export class KeysendsController {
  constructor(
    private readonly resolutions: KeysendResolutions,
    private readonly reconciliation: Reconciliation,
    private readonly queries: PayoutQueries,
  ) {}

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
    const result = await this.resolutions.resolve(BigInt(id), parsed.data, `api key ${caller.keyId} (${caller.app})`);
    switch (result.kind) {
      case 'not_found':
        throw AppError.notFound(`keysend ${id}`);
      case 'not_unknown':
        throw new AppError(ErrorCode.Conflict, `keysend ${id} is ${result.status}, not unknown: nothing to resolve`);
      case 'bad_evidence':
        throw new AppError(ErrorCode.UnprocessableEvidence, result.message);
      case 'resolved':
        return this.queries.keysend(BigInt(id));
    }
  }
}
