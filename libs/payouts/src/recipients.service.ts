import { Injectable } from '@nestjs/common';
import { LedgerQueries, type RecipientIdentity, recipientView } from '@splitstream/ledger';
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
      accruedMsat: String(totals.accruedMsat),
      owedMsat: String(totals.owedMsat),
      inFlightMsat: String(totals.inFlightMsat),
      paidMsat: String(totals.paidMsat),
      consecutiveFailures: recipient.consecutiveFailures,
      lastErrorCode: recipient.lastErrorCode,
      lastErrorMessage: recipient.lastErrorMessage,
      parked: recipient.parked,
      parkedAt: recipient.parkedAt,
      nextAttemptAt: recipient.nextAttemptAt,
    };
  }

  // An operator has looked at a parked recipient: it is paid again from the next run, failures forgotten.
  async unpark(identity: RecipientIdentity) {
    const recipient = await this.ledger.findRecipient(identity);
    if (!recipient) return null;
    await this.prisma.recipient.update({
      where: { id: recipient.id },
      data: { parked: false, parkedAt: null, consecutiveFailures: 0, nextAttemptAt: null },
    });
    return this.status(identity);
  }
}
