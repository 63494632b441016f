import { PrismaService } from '@splitstream/persistence';
import { truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { RecipientsService } from './recipients.service.js';

// GET /v1/recipients/top: the recipients that earned most, to the msat, of one app's balances for an app key and of
// every app's for an admin, each recipient once whatever its number of balances.
describe('top recipients (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const recipients = new RecipientsService(prisma, config);

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    // Recipient i: 10 balances of app-a worth i msat each, and for i <= 3 one of app-b worth 100 msat (4 is known to
    // app-b, without a balance of its).
    await prisma.$executeRawUnsafe(`
      INSERT INTO recipient (id, address) SELECT i, 'r' || i FROM generate_series(1, 6) i;
      INSERT INTO app_recipient (recipient_id, app_id, name) SELECT i, 'app-a', 'A' || i FROM generate_series(1, 6) i;
      INSERT INTO app_recipient (recipient_id, app_id, name) SELECT i, 'app-b', 'B' || i FROM generate_series(1, 4) i; -- 4: no balance of app-b
      INSERT INTO balance (recipient_id, app_id, feed_guid, item_guid, accrued_msat, owed_msat)
      SELECT i, 'app-a', 'f', 'i-' || k, i, i FROM generate_series(1, 6) i CROSS JOIN generate_series(1, 10) k;
      INSERT INTO balance (recipient_id, app_id, feed_guid, item_guid, accrued_msat, owed_msat)
      SELECT i, 'app-b', 'f', 'i', 100, 100 FROM generate_series(1, 3) i`);
  });
  afterAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$disconnect();
  });

  const top = async (tenant: string | null, limit: number) =>
    (await recipients.top(tenant, limit)).recipients.map((r) => [r.address, r.accruedMsat, r.owedMsat]);

  it("ranks an app key's recipients by that app's balances only", async () => {
    expect(await top('app-a', 3)).toEqual([
      ['r6', '60', '60'],
      ['r5', '50', '50'],
      ['r4', '40', '40'],
    ]);
    expect(await top('app-b', 10)).toEqual([
      ['r3', '100', '100'],
      ['r2', '100', '100'],
      ['r1', '100', '100'],
    ]);
  });

  it("ranks an admin's by every app's balances", async () => {
    expect(await top(null, 4)).toEqual([
      ['r3', '130', '130'],
      ['r2', '120', '120'],
      ['r1', '110', '110'],
      ['r6', '60', '60'],
    ]);
  });
});
