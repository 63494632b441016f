import { Body, Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import { type Caller, CurrentCaller, RequireScope, Scope } from '@splitstream/auth';
import { toIssues } from '@splitstream/money';
import { KeysendResolutions, PayoutQueries } from '@splitstream/payouts';
import { ApiError } from '../http/api-error.js';
import { DATABASE_ID } from '../http/params.js';

const hex64 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters');
export const resolutionSchema = z.discriminatedUnion(
  'outcome',
  [
    z
      .object({ outcome: z.literal('succeeded'), paymentHash: hex64.optional(), preimage: hex64.optional() })
      .refine((r) => r.paymentHash || r.preimage, { error: 'give the payment hash or the preimage as evidence', path: ['paymentHash'] }),
    z.object({ outcome: z.literal('failed'), reason: z.string().max(500).optional() }),
  ],
  { error: 'outcome must be "succeeded" or "failed"' },
);

@Controller('v1/keysends')
export class KeysendsController {
  constructor(
    private readonly resolutions: KeysendResolutions,
    private readonly queries: PayoutQueries,
  ) {}

  // Settles a keysend whose outcome is unknown; who did it and when is recorded on the keysend.
  @Post(':id/resolve')
  @HttpCode(HttpStatus.OK)
  @RequireScope(Scope.PayoutsWrite)
  async resolve(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller) {
    if (!DATABASE_ID.test(id)) throw ApiError.notFound(`keysend ${id}`);
    const parsed = resolutionSchema.safeParse(body);
    if (!parsed.success) throw ApiError.validation(toIssues(parsed.error));
    const result = await this.resolutions.resolve(BigInt(id), parsed.data, `api key ${caller.keyId} (${caller.app})`);
    switch (result.kind) {
      case 'not_found':
        throw ApiError.notFound(`keysend ${id}`);
      case 'not_unknown':
        throw new ApiError(HttpStatus.CONFLICT, 'conflict', `keysend ${id} is ${result.status}, not unknown: nothing to resolve`);
      case 'bad_evidence':
        throw ApiError.validation([{ path: 'preimage', message: result.message }]);
      case 'resolved':
        return this.queries.keysend(BigInt(id));
    }
  }
}
