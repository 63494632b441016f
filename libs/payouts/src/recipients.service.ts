import { Injectable } from '@nestjs/common';
import { LedgerQueries, type RecipientIdentity, recipientState, recipientView, unpark } from '@splitstream/ledger';
import { PrismaService } from '@splitstream/persistence';

@Injectable()
export class RecipientsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly ledger: LedgerQueries,
  ) {}

  async status(identity: RecipientIdentity) {
    const recipient = await this.ledger.findRecipient(identity);
    if (!recipient) return null;
    const totals = await this.ledger.recipientTotals(recipient.id);
    return {
      ...recipientView(recipient),
      state: recipientState(recipient),
      accruedMsat: String(totals.accruedMsat),
      owedMsat: String(totals.owedMsat),
      inFlightMsat: String(totals.inFlightMsat),
      parkedMsat: String(totals.parkedMsat),
      paidMsat: String(totals.paidMsat),
      consecutiveFailures: recipient.consecutiveFailures,
      lastErrorCode: recipient.lastErrorCode,
      lastErrorMessage: recipient.lastErrorMessage,
      parked: recipient.parked,
      parkedAt: recipient.parkedAt,
      nextAttemptAt: recipient.nextAttemptAt,
    };
  }

  // An operator has looked at a parked recipient: its parked money is owed again, paid from the next run.
  async unpark(identity: RecipientIdentity) {
    const recipient = await this.ledger.findRecipient(identity);
    if (!recipient) return null;
    await this.prisma.$transaction((tx) => unpark(tx, recipient.id));
    return this.status(identity);
  }
}
