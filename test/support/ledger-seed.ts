import { randomBytes } from 'node:crypto';
import { accrue, type Accrual, allocate, balanceKey, utcDayOf } from '@splitstream/ledger';
import type { PrismaService } from '@splitstream/persistence';
import { asSqlClient } from './database.js';

// Seeding thousands of rows on a busy machine can outlast Prisma's default 5 s for an interactive transaction.
const SEED_TRANSACTION = { timeout: 60_000, maxWait: 30_000 };

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
  const balanceId = (await prisma.$transaction((tx) => accrue(asSqlClient(tx), [row]))).get(balanceKey(row))!;
  return { recipientId, balanceId };
}

// An app's accepted and applied listening, written as the accumulator writes it (events, their allocations, the
// balance through the books' accrue), for amounts ingestion would now refuse: `events` events of `msatEach` to one
// recipient for one episode. The ledger check holds over it.
export async function seedListening(
  prisma: PrismaService,
  seed: { appId: string; address: string; feedGuid: string; itemGuid: string; events: number; msatEach: bigint },
): Promise<{ recipientId: bigint; balanceId: bigint }> {
  const recipient = await prisma.recipient.upsert({
    where: { address_customKey_customValue: { address: seed.address, customKey: '', customValue: '' } },
    create: { address: seed.address },
    update: {},
  });
  await prisma.appRecipient.upsert({
    where: { recipientId_appId: { recipientId: recipient.id, appId: seed.appId } },
    create: { recipientId: recipient.id, appId: seed.appId, name: 'Host' },
    update: {},
  });
  const row: Accrual = {
    recipientId: recipient.id,
    appId: seed.appId,
    feedGuid: seed.feedGuid,
    itemGuid: seed.itemGuid,
    remoteFeedGuid: '',
    remoteItemGuid: '',
    amountMsat: seed.msatEach * BigInt(seed.events),
    name: 'Host',
    appName: seed.appId,
    appVersion: '1',
    senderName: '',
    position: 0,
  };
  return prisma.$transaction(async (tx) => {
    const balanceId = (await accrue(asSqlClient(tx), [row])).get(balanceKey(row))!;
    const events = await tx.listeningEvent.createManyAndReturn({
      data: Array.from({ length: seed.events }, (_, i) => ({
        appId: seed.appId,
        eventId: `seed-${randomBytes(6).toString('hex')}-${i}`,
        payload: {},
        amountMsat: seed.msatEach,
        appliedAt: new Date(),
      })),
      select: { id: true, receivedAt: true },
    });
    await allocate(
      asSqlClient(tx),
      events.map((e) => ({ eventId: e.id, balanceId, recipientId: recipient.id, amountMsat: seed.msatEach, day: utcDayOf(e.receivedAt) })),
    );
    return { recipientId: recipient.id, balanceId };
  }, SEED_TRANSACTION);
}

// Many Lightning-address recipients owed by one app at once (one event and one balance each, in one transaction):
// an attacker's thousands of addresses without posting thousands of events. The ledger check holds over it.
export async function seedAddresses(prisma: PrismaService, appId: string, addresses: string[], msatEach: bigint): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const recipients = await tx.recipient.createManyAndReturn({ data: addresses.map((address) => ({ address })), select: { id: true } });
    await tx.appRecipient.createMany({ data: recipients.map((r) => ({ recipientId: r.id, appId, name: 'Host' })) });
    const rows: Accrual[] = recipients.map((r) => ({
      recipientId: r.id,
      appId,
      feedGuid: 'feed',
      itemGuid: 'item',
      remoteFeedGuid: '',
      remoteItemGuid: '',
      amountMsat: msatEach,
      name: 'Host',
      appName: appId,
      appVersion: '1',
      senderName: '',
      position: 0,
    }));
    const balances = await accrue(asSqlClient(tx), rows);
    const events = await tx.listeningEvent.createManyAndReturn({
      data: rows.map((_, i) => ({ appId, eventId: `seed-${randomBytes(6).toString('hex')}-${i}`, payload: {}, amountMsat: msatEach, appliedAt: new Date() })),
      select: { id: true, receivedAt: true },
    });
    await allocate(
      asSqlClient(tx),
      rows.map((row, i) => ({
        eventId: events[i]!.id,
        balanceId: balances.get(balanceKey(row))!,
        recipientId: row.recipientId,
        amountMsat: msatEach,
        day: utcDayOf(events[i]!.receivedAt),
      })),
    );
  }, SEED_TRANSACTION);
}
