import { type Prisma, PrismaService } from '@splitstream/persistence';
import { pubkey } from '../../money/src/testing/value-builders.js';
import { truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { accrue, type Accrual, balanceKey, park, release, reserve, settle, transferRemainder, unpark } from './books.js';

// Each movement of money on its own, against the real PostgreSQL (whose CHECK constraint holds every balance to
// accrued = owed + in flight + parked + paid).
describe('the books: movements of money (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  let recipientId: bigint;
  let keysendSeq = 0n;

  const accrual = (overrides: Partial<Accrual> = {}): Accrual => ({
    recipientId,
    appId: 'app',
    feedGuid: 'feed',
    itemGuid: 'item',
    remoteFeedGuid: '',
    remoteItemGuid: '',
    amountMsat: 10_000n,
    name: 'Host',
    appName: 'App',
    appVersion: '1',
    senderName: 'satoshi',
    position: 5,
    ...overrides,
  });
  const balance = (id: bigint) => prisma.balance.findUniqueOrThrow({ where: { id } });
  const amounts = async (id: bigint) => {
    const b = await balance(id);
    return { accrued: b.accruedMsat, owed: b.owedMsat, inFlight: b.inFlightMsat, parked: b.parkedMsat, paid: b.paidMsat };
  };
  const tx = <T>(work: (t: Prisma.TransactionClient) => Promise<T>) => prisma.$transaction(work);
  const newBalance = async (overrides: Partial<Accrual> = {}) => {
    const row = accrual(overrides);
    return (await tx((t) => accrue(t, [row]))).get(balanceKey(row))!;
  };
  // A keysend row to hang a reservation on (the books link allocations to it).
  const keysendFor = async (balanceId: bigint, sats: number) => {
    const payout = await prisma.payout.create({ data: { trigger: 'manual' } });
    keysendSeq += 1n;
    return (
      await prisma.payment.create({
        data: {
          payoutId: payout.id,
          recipientId,
          balanceId,
          reference: `ref-${keysendSeq}`,
          destination: pubkey(1),
          amountSats: sats,
          attempt: 1,
          status: 'pending',
          customRecords: {},
        },
      })
    ).id;
  };

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$connect();
  });
  beforeEach(async () => {
    recipientId = (await prisma.recipient.create({ data: { address: pubkey(Number(++keysendSeq)), name: 'Host' } })).id;
  });
  afterAll(() => prisma.$disconnect());

  it('accrue: adds to owed and records what the latest event said (name, app, listener, position)', async () => {
    const id = await newBalance();
    await tx((t) => accrue(t, [accrual({ amountMsat: 5_000n, name: 'Host (renamed)', position: 99 })]));
    expect(await amounts(id)).toEqual({ accrued: 15_000n, owed: 15_000n, inFlight: 0n, parked: 0n, paid: 0n });
    expect(await balance(id)).toMatchObject({ name: 'Host (renamed)', position: 99, appName: 'App', senderName: 'satoshi' });
  });

  it('accrue: a parked recipient accrues into parked', async () => {
    const id = await newBalance();
    await tx((t) => park(t, recipientId, { code: '2', message: 'refused' }));
    await tx((t) => accrue(t, [accrual({ amountMsat: 1_000n })]));
    expect(await amounts(id)).toEqual({ accrued: 11_000n, owed: 0n, inFlight: 0n, parked: 11_000n, paid: 0n });
  });

  it("reserve: owed -> in flight, linking the balance's unlinked allocations to the keysend", async () => {
    const id = await newBalance();
    const paymentId = await keysendFor(id, 9);
    await tx((t) => reserve(t, [{ paymentId, balanceId: id, msat: 9_000n }]));
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 1_000n, inFlight: 9_000n, parked: 0n, paid: 0n });
  });

  it('settle: in flight -> paid', async () => {
    const id = await newBalance();
    const paymentId = await keysendFor(id, 10);
    await tx(async (t) => {
      await reserve(t, [{ paymentId, balanceId: id, msat: 10_000n }]);
      await settle(t, [{ balanceId: id, msat: 10_000n }]);
    });
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 0n, inFlight: 0n, parked: 0n, paid: 10_000n });
  });

  it('release: in flight -> owed (parked, for a parked recipient)', async () => {
    const id = await newBalance();
    const [a, b] = [await keysendFor(id, 4), await keysendFor(id, 6)];
    await tx((t) =>
      reserve(t, [
        { paymentId: a, balanceId: id, msat: 4_000n },
        { paymentId: b, balanceId: id, msat: 6_000n },
      ]),
    );
    await tx((t) => release(t, [{ paymentId: a, balanceId: id, msat: 4_000n }]));
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 4_000n, inFlight: 6_000n, parked: 0n, paid: 0n });
    await tx((t) => park(t, recipientId, { code: '10', message: 'no route' }));
    await tx((t) => release(t, [{ paymentId: b, balanceId: id, msat: 6_000n }]));
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 0n, inFlight: 0n, parked: 10_000n, paid: 0n });
  });

  it('transferRemainder: moves owed and accrued together between two balances of one recipient', async () => {
    const from = await newBalance({ itemGuid: 'a', amountMsat: 1_400n });
    const to = await newBalance({ itemGuid: 'b', amountMsat: 5_600n });
    await tx((t) => transferRemainder(t, from, to, 400n));
    expect(await amounts(from)).toEqual({ accrued: 1_000n, owed: 1_000n, inFlight: 0n, parked: 0n, paid: 0n });
    expect(await amounts(to)).toEqual({ accrued: 6_000n, owed: 6_000n, inFlight: 0n, parked: 0n, paid: 0n });
  });

  it('park and unpark: owed <-> parked, with the reason kept and failures forgotten on unpark', async () => {
    const id = await newBalance();
    await tx((t) => park(t, recipientId, { code: '2', message: 'invalid destination pubkey' }));
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 0n, inFlight: 0n, parked: 10_000n, paid: 0n });
    expect(await prisma.recipient.findUniqueOrThrow({ where: { id: recipientId } })).toMatchObject({
      parked: true,
      lastErrorCode: '2',
      lastErrorMessage: 'invalid destination pubkey',
    });
    await prisma.recipient.update({ where: { id: recipientId }, data: { consecutiveFailures: 8 } });
    await tx((t) => unpark(t, recipientId));
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 10_000n, inFlight: 0n, parked: 0n, paid: 0n });
    expect(await prisma.recipient.findUniqueOrThrow({ where: { id: recipientId } })).toMatchObject({ parked: false, consecutiveFailures: 0 });
  });

  it('the database refuses a movement that would break a balance (settling more than is in flight)', async () => {
    const id = await newBalance();
    await expect(tx((t) => settle(t, [{ balanceId: id, msat: 1n }]))).rejects.toThrow(/balance_amounts_check/);
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 10_000n, inFlight: 0n, parked: 0n, paid: 0n });
  });
});
