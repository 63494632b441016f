import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { RequireScope, Scope } from '@splitstream/auth';
import { toIssues } from '@splitstream/money';
import { RecipientsService } from '@splitstream/payouts';
import { AppError, ErrorCode } from '@splitstream/errors';

export const identitySchema = z
  .object({
    address: z.string().regex(/^0[23][0-9a-fA-F]{64}$/, 'must be a 66-hex compressed node pubkey'),
    customKey: z.string().regex(/^[0-9]+$/, 'must be a decimal integer').optional(),
    customValue: z.string().min(1).optional(),
  })
  .refine((r) => (r.customKey === undefined) === (r.customValue === undefined), {
    error: 'customKey and customValue go together',
    path: ['customValue'],
  });

const parseIdentity = (input: unknown) => {
  const parsed = identitySchema.safeParse(input);
  if (!parsed.success) throw AppError.validation(toIssues(parsed.error));
  return parsed.data;
};

@Controller('v1/recipients')
export class RecipientsController {
  constructor(private readonly recipients: RecipientsService) {}

  @Get()
  @RequireScope(Scope.PayoutsRead)
  async get(@Query() query: unknown) {
    const status = await this.recipients.status(parseIdentity(query));
    if (!status) throw AppError.notFound('recipient');
    return status;
  }

  @Post('unpark')
  @HttpCode(HttpStatus.OK)
  @RequireScope(Scope.PayoutsWrite)
  async unpark(@Body() body: unknown) {
    const status = await this.recipients.unpark(parseIdentity(body));
    if (!status) throw AppError.notFound('recipient');
    return status;
  }
}
