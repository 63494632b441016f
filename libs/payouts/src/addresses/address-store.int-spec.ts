import { PrismaService } from '@splitstream/persistence';
import { truncateAll } from '../../../../test/support/database.js';
import { testConfig } from '../../../../test/support/test-config.js';
import { AddressStore, type ResolveSelection } from './address-store.js';

// Which addresses a resolution takes, against the real PostgreSQL: no app's addresses (many, failing, on a domain
// whose breaker is open) hold another app's resolution or refresh.
describe('AddressStore.toResolve (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const store = new AddressStore(prisma, config);
  const select: ResolveSelection = { refreshSeconds: 120, retrySeconds: 60, maxRetrySeconds: 3600, perDomain: 1000, limit: 1000 };
  const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

  // A recipient row per app (an address may be several recipients, by their custom records).
  const owe = async (appId: string, address: string) => {
    const recipient = await prisma.recipient.create({ data: { address, customValue: appId, apps: { create: { appId, name: 'Host' } } } });
    await prisma.balance.create({ data: { recipientId: recipient.id, appId, feedGuid: 'feed', itemGuid: 'item', accruedMsat: 1000n, owedMsat: 1000n } });
  };
  const failed = (address: string, failedAt: Date, attempts = 1) =>
    prisma.lnaddressFailure.create({
      data: { address, code: 'lnaddress_refused', message: 'no', detail: 'no', failedAt, attempts, fingerprint: store.fingerprint },
    });
  const route = (address: string, expiresAt: Date) =>
    prisma.addressRoute.create({ data: { address, kind: 'keysend', pubkey: '02'.padEnd(66, 'a'), expiresAt, fingerprint: store.fingerprint } });

  beforeEach(() => truncateAll(config.DATABASE_URL));
  afterAll(() => prisma.$disconnect());

  it("leaves out domains whose breaker is open (not those whose time has passed) and addresses within their failure's backoff", async () => {
    for (const address of ['a@open.test', 'b@half.test', 'new@ok.test', 'recent@ok.test', 'old@ok.test', 'thrice@ok.test', 'often@ok.test', 'fresh@ok.test']) {
      await owe('app-b', address);
    }
    await prisma.lnaddressDomain.create({
      data: { domain: 'open.test', consecutiveFailures: 3, openUntil: new Date(Date.now() + 60_000), fingerprint: store.fingerprint },
    });
    await prisma.lnaddressDomain.create({ data: { domain: 'half.test', consecutiveFailures: 3, openUntil: ago(1), fingerprint: store.fingerprint } });
    await failed('recent@ok.test', ago(30)); // waits 60 s
    await failed('old@ok.test', ago(90));
    await failed('thrice@ok.test', ago(200), 3); // waits 240 s
    await failed('often@ok.test', ago(3700), 40); // waits the ceiling, 3600 s
    await route('fresh@ok.test', new Date(Date.now() + 600_000)); // not due for a refresh
    expect((await store.toResolve(select)).sort()).toEqual(['b@half.test', 'new@ok.test', 'often@ok.test', 'old@ok.test']);
  });

  it('gives every app a turn, refreshes and never-tried addresses before failed ones, and at most perDomain of one domain', async () => {
    // App B: 10 never-tried addresses on one domain, 10 that failed long ago on another, and a refresh due.
    for (let i = 0; i < 10; i++) {
      await owe('app-b', `n${i}@many.test`);
      await owe('app-b', `f${i}@fail.test`);
      await failed(`f${i}@fail.test`, ago(86_400));
    }
    await owe('app-b', 'soon@b.test');
    await route('soon@b.test', new Date(Date.now() + 60_000));
    // App A: a route about to expire and a new address.
    await owe('app-a', 'alice@pods.test');
    await route('alice@pods.test', new Date(Date.now() + 30_000));
    await owe('app-a', 'carol@pods.test');

    const all = await store.toResolve({ ...select, perDomain: 3 });
    // Turn 1: each app's first (A's refresh expires sooner than B's); turn 2: A's new address, B's first never
    // tried; then B alone: its never-tried, then its failed ones, 3 of each domain.
    expect(all).toEqual([
      'alice@pods.test',
      'soon@b.test',
      'carol@pods.test',
      'n0@many.test',
      'n1@many.test',
      'n2@many.test',
      'f0@fail.test',
      'f1@fail.test',
      'f2@fail.test',
    ]);
    expect(await store.toResolve({ ...select, perDomain: 3, limit: 3 })).toEqual(all.slice(0, 3));
    // An address owed by both apps takes the better of its turns.
    await owe('app-a', 'f9@fail.test');
    expect((await store.toResolve({ ...select, perDomain: 3 })).slice(0, 4)).toEqual(['alice@pods.test', 'soon@b.test', 'carol@pods.test', 'n0@many.test']);
  });
});

// A domain's breaker as passes record into it at once (calls of one pass timing out together, passes of several
// workers): every failure is counted, the breaker opening at the count the config sets.
describe('AddressStore breakers (integration)', () => {
  const config = testConfig({ LNADDRESS_BREAKER_FAILURES: '5', LNADDRESS_BREAKER_SECONDS: '60' });
  const prisma = new PrismaService(config);
  const store = new AddressStore(prisma, config);
  const failure = { code: 'lnaddress_unreachable', message: 'no answer', detail: 'timeout' };
  const row = (domain: string) => prisma.lnaddressDomain.findUniqueOrThrow({ where: { domain } });

  beforeEach(() => truncateAll(config.DATABASE_URL));
  afterAll(() => prisma.$disconnect());

  it('counts every one of failures recorded at once, opens at the set count for the set time, and an answer closes it', async () => {
    const before = Date.now();
    const states = await Promise.all(Array.from({ length: 8 }, () => store.breakerFailed('busy.test', failure)));
    expect(states.map((s) => s.consecutiveFailures).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(
      states
        .filter((s) => s.openUntil === null)
        .map((s) => s.consecutiveFailures)
        .sort(),
    ).toEqual([1, 2, 3, 4]);
    const stored = await row('busy.test');
    expect(stored).toMatchObject({ consecutiveFailures: 8, lastErrorCode: 'lnaddress_unreachable' });
    expect(stored.openUntil!.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(stored.openUntil!.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);

    await store.breakerAnswered('busy.test');
    const closed = await row('busy.test');
    expect(closed).toMatchObject({ consecutiveFailures: 0, openUntil: null, lastErrorCode: null });
    // Closed already: an answer writes nothing.
    await store.breakerAnswered('busy.test');
    expect((await row('busy.test')).updatedAt).toEqual(closed.updatedAt);
  });

  it("starts over on a row another config's process left, and takes it over", async () => {
    await prisma.lnaddressDomain.create({
      data: { domain: 'stale.test', consecutiveFailures: 9, openUntil: new Date(Date.now() + 60_000), fingerprint: 'other' },
    });
    expect(await store.breakerFailed('stale.test', failure)).toEqual({ consecutiveFailures: 1, openUntil: null });
    expect(await row('stale.test')).toMatchObject({ consecutiveFailures: 1, fingerprint: store.fingerprint });
  });
});
