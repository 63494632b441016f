import { LnaddressFailure, type LnaddressClient } from '@splitstream/lnaddress';
import { MetricsService } from '@splitstream/observability';
import { Payments } from '@splitstream/payments';
import { PrismaService } from '@splitstream/persistence';
import type { JobQueue } from '@splitstream/queue';
import { truncateAll } from '../../../../test/support/database.js';
import { testConfig } from '../../../../test/support/test-config.js';
import { RecipientsService } from '../recipients.service.js';
import { LightningAddresses } from '../run/lightning-addresses.js';
import { PayoutStore } from '../store/payout-store.js';
import { Locks } from '../store/session-lock.js';
import { AddressResolution } from './address-resolution.service.js';
import { AddressStore } from './address-store.js';
import { DomainBreakers } from './domain-breakers.js';

// Two worker processes configured apart (a rolling deploy of a rail or host-map change, one replica configured
// differently) share lnaddress_route, lnaddress_failure and lnaddress_domain. Neither deletes what the other
// learned (the other may be paying from it); each treats the other's rows as stale: never planned with, resolved
// again under its own config, failures and breakers not counted.
describe('Lightning-address rows of processes configured apart (integration)', () => {
  const configX = testConfig();
  const configY = testConfig({ LNADDRESS_HOST_MAP: 'pods.test=http://127.0.0.1:7599' });
  const prisma = new PrismaService(configX);
  const metrics = new MetricsService('worker');
  const workerX = new AddressStore(prisma, configX);
  const workerY = new AddressStore(prisma, configY);
  const payouts = new PayoutStore(prisma);
  const select = { refreshSeconds: 120, retrySeconds: 60, maxRetrySeconds: 3600, perDomain: 100, limit: 100 };
  const inAnHour = () => new Date(Date.now() + 3_600_000);
  const unreachable = { code: LnaddressFailure.Unreachable, message: 'no', detail: 'no' };
  const lnurlp = {
    kind: 'lnurlp' as const,
    callback: 'https://pods.test/cb',
    minSendableMsat: 1000n,
    maxSendableMsat: 1_000_000_000n,
    commentAllowed: 0,
    metadataHash: 'ab'.repeat(32),
  };
  const keysend = { kind: 'keysend' as const, pubkey: '02'.padEnd(66, 'c'), customRecords: {} };

  const owe = async (address: string) => {
    const recipient = await prisma.recipient.create({ data: { address, apps: { create: { appId: 'app-a', name: 'Host' } } } });
    const balance = await prisma.balance.create({
      data: { recipientId: recipient.id, appId: 'app-a', feedGuid: 'f', itemGuid: 'i', accruedMsat: 10_000n, owedMsat: 10_000n },
    });
    return { recipient, balance };
  };
  // What a run of worker X planned: an invoice payment to the address, pending, its invoice not asked for yet.
  const planned = async (address: string) => {
    const { recipient, balance } = await owe(address);
    await prisma.balance.update({ where: { id: balance.id }, data: { owedMsat: 0n, inFlightMsat: 10_000n } });
    const payout = await prisma.payout.create({ data: { trigger: 'manual', status: 'running', startedAt: new Date() } });
    const payment = await prisma.payment.create({
      data: {
        payoutId: payout.id,
        recipientId: recipient.id,
        balanceId: balance.id,
        appId: balance.appId,
        reference: `ref-${address}`,
        amountSats: 10n,
        attempt: 1,
        status: 'pending',
        customRecords: {},
        method: 'invoice',
        destination: address,
      },
    });
    return payment.id;
  };
  const addresses = async () => (await prisma.addressRoute.findMany({ orderBy: { address: 'asc' } })).map((r) => r.address);

  beforeEach(() => truncateAll(configX.DATABASE_URL));
  afterAll(() => prisma.$disconnect());

  it("deletes nothing of the other's: each keeps the routes it resolved, and the route of X's planned payment stays", async () => {
    const payment = await planned('host@pods.test');
    await workerX.saveRoute('host@pods.test', lnurlp, inAnHour());
    await workerX.saveRoute('x@pods.test', lnurlp, inAnHour());
    // A resolution job of worker Y, which resolves the address owed money that it has no route for.
    await owe('y@pods.test');
    const client = { resolve: async () => keysend } as unknown as LnaddressClient;
    const resolutionOfY = new AddressResolution(workerY, new DomainBreakers(workerY, metrics), new Locks(configY), client, configY, metrics);
    expect(await resolutionOfY.resolveDue()).toMatchObject({ ran: true, resolved: 1 });
    await workerY.saveFailure('z@pods.test', unreachable);
    for (let i = 0; i < configY.LNADDRESS_BREAKER_FAILURES; i++) await workerY.breakerFailed('down.test', unreachable);
    expect(await addresses()).toEqual(['host@pods.test', 'x@pods.test', 'y@pods.test']);
    // X's run asks for the invoice from the route it planned with.
    expect(await payouts.invoicesWanted([payment], workerX.fingerprint)).toEqual([
      expect.objectContaining({ id: payment, route: 'lnurlp', callback: lnurlp.callback, metadata_hash: lnurlp.metadataHash }),
    ]);
  });

  it("treats the other's rows as stale: not planned with, resolved again, its failures and breakers not counted", async () => {
    await owe('x@pods.test');
    await workerX.saveRoute('x@pods.test', keysend, inAnHour());
    await owe('failing@pods.test');
    for (let i = 0; i < 5; i++) await workerX.saveFailure('failing@pods.test', unreachable);
    // Nothing untried for X; for Y, addresses only X resolved or tried.
    expect([await workerX.anyUntried(), await workerY.anyUntried()]).toEqual([false, true]);
    for (let i = 0; i < configX.LNADDRESS_BREAKER_FAILURES; i++) await workerX.breakerFailed('open.test', unreachable);
    await owe('a@open.test');

    const due = (store: AddressStore) => prisma.$transaction((tx) => payouts.dueBalances(tx, 1n, store.fingerprint));
    expect((await due(workerX)).map((b) => b.address)).toEqual(['x@pods.test']);
    expect(await due(workerY)).toEqual([]);
    // What an api under each config says the address waits for.
    const waiting = async (config: typeof configX) => {
      const { recipients } = await new RecipientsService(prisma, config).list({ tenant: 'app-a', identity: { address: 'x@pods.test' }, limit: 1 });
      return recipients[0]!.waiting;
    };
    expect(await waiting(configX)).toBeNull();
    expect(await waiting(configY)).toMatchObject({ code: 'lnaddress_unresolved' });
    expect(await workerX.toResolve(select)).toEqual([]);
    expect((await workerY.toResolve(select)).sort()).toEqual(['a@open.test', 'failing@pods.test', 'x@pods.test']);
    expect(await workerY.breakers(['open.test'])).toEqual(new Map());
    // Y's own failure of the address starts its count over (X's five were another config's servers').
    await workerY.saveFailure('failing@pods.test', unreachable);
    expect(await prisma.lnaddressFailure.findUniqueOrThrow({ where: { address: 'failing@pods.test' } })).toMatchObject({
      attempts: 1,
      fingerprint: workerY.fingerprint,
    });
    // Y's resolution overwrites X's route: now X's is the stale one.
    await workerY.saveRoute('x@pods.test', keysend, inAnHour());
    expect((await due(workerY)).map((b) => b.address)).toEqual(['x@pods.test']);
    expect(await due(workerX)).toEqual([]);
  });

  it("lets a planned invoice payment whose route another config overwrote wait for resolution, never the recipient's failure", async () => {
    const payment = await planned('host@pods.test');
    await workerX.saveRoute('host@pods.test', lnurlp, inAnHour());
    await workerY.saveRoute('host@pods.test', keysend, inAnHour());
    const asked: unknown[] = [];
    const client = { invoice: async (request: unknown) => asked.push(request) } as unknown as LnaddressClient;
    const runOfX = new LightningAddresses(
      payouts,
      workerX,
      new DomainBreakers(workerX, metrics),
      new Payments(prisma, metrics),
      {} as JobQueue,
      client,
      configX,
      metrics,
    );
    expect(await runOfX.obtainInvoices([payment])).toEqual([
      { paymentId: payment, reason: expect.objectContaining({ code: 'lnaddress_unresolved' }), recipients: false },
    ]);
    expect(asked).toEqual([]);
  });
});
