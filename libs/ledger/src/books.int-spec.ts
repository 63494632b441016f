import { type Prisma, PrismaService } from '@splitstream/persistence';
import { pubkey } from '../../money/src/testing/value-builders.js';
import { asSqlClient, truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { accrue, type Accrual, balanceKey, park, release, reserve, settle, transferRemainder, unpark } from './books.js';
import { accrualFor, pendingPayment } from './testing/ledger-fixtures.js';

// Each movement of money on its own, against the real PostgreSQL (whose CHECK constraint holds every balance to
// accrued = owed + in flight + parked + paid).
describe('the books: movements of money (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  let recipientId: bigint;
  let keysendSeq = 0n;

  const accrual = (overrides: Partial<Accrual> = {}): Accrual => accrualFor(recipientId, overrides);
  const balance = (id: bigint) => prisma.balance.findUniqueOrThrow({ where: { id } });
  const amounts = async (id: bigint) => {
    const b = await balance(id);
    return { accrued: b.accruedMsat, owed: b.owedMsat, inFlight: b.inFlightMsat, parked: b.parkedMsat, paid: b.paidMsat };
  };
  const ofApp = (appId = 'app') => ({ recipientId, appId });
  const state = (appId = 'app') => prisma.appRecipient.findUniqueOrThrow({ where: { recipientId_appId: ofApp(appId) } });
  const tx = <T>(work: (t: Prisma.TransactionClient) => Promise<T>) => prisma.$transaction(work);
  const newBalance = async (overrides: Partial<Accrual> = {}) => {
    const row = accrual(overrides);
    return (await tx((t) => accrue(asSqlClient(t), [row]))).get(balanceKey(row))!;
  };
  // A keysend row to hang a reservation on (the books link allocations to it).
  const keysendFor = async (balanceId: bigint, sats: number) => {
    keysendSeq += 1n;
    return pendingPayment(prisma, { recipientId, balanceId, sats, reference: `ref-${keysendSeq}` });
  };

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$connect();
  });
  beforeEach(async () => {
    recipientId = (
      await prisma.recipient.create({
        data: {
          address: pubkey(Number(++keysendSeq)),
          apps: {
            create: [
              { appId: 'app', name: 'Host' },
              { appId: 'other-app', name: 'Host' },
            ],
          },
        },
      })
    ).id;
  });
  afterAll(() => prisma.$disconnect());

  it('accrue: adds to owed and records what the latest event said (name, app, listener, position)', async () => {
    const id = await newBalance();
    await tx((t) => accrue(asSqlClient(t), [accrual({ amountMsat: 5_000n, name: 'Host (renamed)', position: 99 })]));
    expect(await amounts(id)).toEqual({ accrued: 15_000n, owed: 15_000n, inFlight: 0n, parked: 0n, paid: 0n });
    expect(await balance(id)).toMatchObject({ name: 'Host (renamed)', position: 99, appName: 'App', senderName: 'satoshi' });
  });

  it("accrue: a recipient parked for an app accrues that app's money into parked, another app's into owed", async () => {
    const id = await newBalance();
    const others = await newBalance({ appId: 'other-app' });
    await tx((t) => park(t, ofApp(), { code: '2', message: 'refused' }));
    await tx((t) =>
      accrue(
        asSqlClient(t),
        [accrual({ amountMsat: 1_000n }), accrual({ appId: 'other-app', amountMsat: 1_000n })].sort((a, b) => (balanceKey(a) < balanceKey(b) ? -1 : 1)),
      ),
    );
    expect(await amounts(id)).toEqual({ accrued: 11_000n, owed: 0n, inFlight: 0n, parked: 11_000n, paid: 0n });
    expect(await amounts(others)).toEqual({ accrued: 11_000n, owed: 11_000n, inFlight: 0n, parked: 0n, paid: 0n });
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
    await tx((t) => park(t, ofApp(), { code: '10', message: 'no route' }));
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

  it("park and unpark: one app's owed <-> parked, with the reason kept and failures forgotten on unpark; another app's money never moves; unpark says when nothing was parked", async () => {
    const id = await newBalance();
    const others = await newBalance({ appId: 'other-app' });
    await tx((t) => park(t, ofApp('other-app'), { code: '10', message: 'no route' }));
    await tx((t) => park(t, ofApp(), { code: '2', message: 'invalid destination pubkey' }));
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 0n, inFlight: 0n, parked: 10_000n, paid: 0n });
    expect(await state()).toMatchObject({ parked: true, lastErrorCode: '2', lastErrorMessage: 'invalid destination pubkey' });
    await prisma.appRecipient.update({ where: { recipientId_appId: ofApp() }, data: { consecutiveFailures: 8 } });
    expect(await tx((t) => unpark(t, ofApp()))).toBe(true);
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 10_000n, inFlight: 0n, parked: 0n, paid: 0n });
    expect(await state()).toMatchObject({ parked: false, consecutiveFailures: 0 });
    // The other app's stays parked, with its own reason.
    expect(await amounts(others)).toEqual({ accrued: 10_000n, owed: 0n, inFlight: 0n, parked: 10_000n, paid: 0n });
    expect(await state('other-app')).toMatchObject({ parked: true, lastErrorCode: '10', lastErrorMessage: 'no route' });
    // Again: nothing was parked, nothing changes (failures since are kept).
    await prisma.appRecipient.update({ where: { recipientId_appId: ofApp() }, data: { consecutiveFailures: 2 } });
    expect(await tx((t) => unpark(t, ofApp()))).toBe(false);
    expect(await state()).toMatchObject({ parked: false, consecutiveFailures: 2 });
    expect(await tx((t) => unpark(t, ofApp('no-such-app')))).toBeNull();
  });

  it('the database refuses a movement that would break a balance (settling more than is in flight)', async () => {
    const id = await newBalance();
    await expect(tx((t) => settle(t, [{ balanceId: id, msat: 1n }]))).rejects.toThrow(/balance_amounts_check/);
    expect(await amounts(id)).toEqual({ accrued: 10_000n, owed: 10_000n, inFlight: 0n, parked: 0n, paid: 0n });
  });
});
