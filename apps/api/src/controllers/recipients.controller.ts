import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { type Caller, CurrentCaller, RequireScope, Scope, tenantOf } from '@splitstream/auth';
import { isLightningAddress, toIssues } from '@splitstream/money';
import { RecipientsService, StatementsService, type UnparkScope } from '@splitstream/payouts';
import { AppError, ErrorCode } from '@splitstream/errors';
import { Cursors } from '../http/cursors.js';
import { booleanFlag, foundById, msatAmount, pageQuery, parseQuery, queryText, utcDay } from '../http/params.js';
import { statementCsv } from '../http/statement-csv.js';

const identityFields = {
  // Stored lowercase (node pubkeys and Lightning Addresses alike).
  address: z
    .string()
    .transform((a) => a.toLowerCase())
    .refine((a) => /^0[23][0-9a-f]{64}$/.test(a) || isLightningAddress(a), 'must be a 66-hex compressed node pubkey or a Lightning Address'),
  customKey: z
    .string()
    .regex(/^[0-9]+$/, 'must be a decimal integer')
    .optional(),
  customValue: z.string().min(1).optional(),
};
const customRecordsTogether = (r: { customKey?: string; customValue?: string }) => (r.customKey === undefined) === (r.customValue === undefined);
const together = { error: 'customKey and customValue go together', path: ['customValue'] };

export const identitySchema = z.strictObject(identityFields).refine(customRecordsTogether, together);

// Whose parked money: the key's own app's (as for every key), unless an admin key names another app (`app`) or
// every app (allApps: true). An app key naming another app, or all, is refused.
export const unparkSchema = z
  .strictObject({ ...identityFields, app: z.string().min(1).max(200).optional(), allApps: z.literal(true).optional() })
  .refine(customRecordsTogether, together)
  .refine((r) => r.app === undefined || r.allApps === undefined, { error: 'give app or allApps, not both', path: ['allApps'] });

function unparkScope(caller: Caller, app = caller.app, allApps?: true): UnparkScope {
  if (tenantOf(caller) !== null && (allApps || app !== caller.app)) {
    throw new AppError(ErrorCode.Forbidden, "an app key unparks only its own app's money: leave out app and allApps");
  }
  return allApps ? { allApps } : { apps: [app] };
}

export const recipientListQuery = {
  ...pageQuery,
  parked: booleanFlag.optional(),
  owedAtLeastMsat: msatAmount.optional(),
  q: queryText(200).optional(),
  address: identityFields.address.optional(),
  customKey: identityFields.customKey,
  customValue: identityFields.customValue,
};

export const topQuery = { limit: pageQuery.limit };
export const statementQuery = {
  from: utcDay.optional().describe('first UTC day of the period (a date, or its midnight)'),
  to: utcDay.optional().describe('UTC day after the period (a date, or its midnight)'),
};

@Controller('v1/recipients')
export class RecipientsController {
  constructor(
    private readonly recipients: RecipientsService,
    private readonly statements: StatementsService,
    private readonly cursors: Cursors,
  ) {}

  // Newest first. `address` (with customKey/customValue for a wallet behind a shared node) finds one recipient.
  @Get()
  @RequireScope(Scope.PayoutsRead)
  list(@Query() query: unknown, @CurrentCaller() caller: Caller) {
    const { address, customKey, customValue, before, ...filter } = parseQuery(recipientListQuery, query);
    if (!customRecordsTogether({ customKey, customValue }))
      throw AppError.validation([{ path: 'customValue', message: together.error }], 'the query is invalid');
    return this.cursors.page(caller, 'recipients', before, (id) =>
      this.recipients.list({ ...filter, before: id, tenant: tenantOf(caller), ...(address && { identity: { address, customKey, customValue } }) }),
    );
  }

  @Get('top')
  @RequireScope(Scope.PayoutsRead)
  top(@Query() query: unknown, @CurrentCaller() caller: Caller) {
    return this.recipients.top(tenantOf(caller), parseQuery(topQuery, query).limit);
  }

  @Get(':id')
  @RequireScope(Scope.PayoutsRead)
  async get(@Param('id') id: string, @CurrentCaller() caller: Caller) {
    return foundById('recipient', id, (recipientId) => this.recipients.get(tenantOf(caller), recipientId));
  }

  // JSON, or CSV with `Accept: text/csv`.
  @Get(':id/statement')
  @RequireScope(Scope.PayoutsRead)
  async statement(
    @Param('id') id: string,
    @Query() query: unknown,
    @Headers('accept') accept: string | undefined,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const period = parseQuery(statementQuery, query);
    const statement = await foundById('recipient', id, (recipientId) => this.statements.statement(tenantOf(caller), recipientId, period));
    if (!/\btext\/csv\b/i.test(accept ?? '')) return statement;
    reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="splitstream-statement-${id}.csv"`);
    return statementCsv(statement);
  }

  @Post('unpark')
  @HttpCode(HttpStatus.OK)
  @RequireScope(Scope.PayoutsWrite)
  async unpark(@Body() body: unknown, @CurrentCaller() caller: Caller) {
    const parsed = unparkSchema.safeParse(body);
    if (!parsed.success) throw AppError.validation(toIssues(parsed.error));
    const { app, allApps, ...identity } = parsed.data;
    const status = await this.recipients.unpark(tenantOf(caller), identity, unparkScope(caller, app, allApps));
    if (!status) throw AppError.notFound('recipient');
    return status;
  }
}
