import { randomBytes } from 'node:crypto';
import { accrue, type Accrual, balanceKey } from '@splitstream/ledger';
import type { PrismaService } from '@splitstream/persistence';

// A recipient of its own (node `address`, a unique custom value), named by app 'app', with one balance of that app
// accrued `msat`, through the books' own accrue: what integration tests of payments start from.
export async function seedBalance(prisma: PrismaService, address: string, msat: bigint): Promise<{ recipientId: bigint; balanceId: bigint }> {
  const unique = randomBytes(6).toString('hex');
  const recipientId = (await prisma.recipient.create({ data: { address, customValue: `r-${unique}`, apps: { create: { appId: 'app', name: 'Host' } } } })).id;
  const row: Accrual = {
    recipientId,
    appId: 'app',
    feedGuid: 'feed',
    itemGuid: `item-${unique}`,
    remoteFeedGuid: '',
    remoteItemGuid: '',
    amountMsat: msat,
    name: 'Host',
    appName: 'App',
    appVersion: '1',
    senderName: 'satoshi',
    position: 0,
  };
  const balanceId = (await prisma.$transaction((tx) => accrue(tx, [row]))).get(balanceKey(row))!;
  return { recipientId, balanceId };
}
