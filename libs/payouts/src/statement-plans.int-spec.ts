import { PrismaService } from '@splitstream/persistence';
import { planOf } from '../../ledger/src/testing/ledger-fixtures.js';
import { truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { statementEpisodesSql } from './statements.service.js';

// A statement of a recipient with most of the allocations (and boosts): without a period it reads that recipient's balances
// (through an index that leads with it, or with the app and it) and never an allocation; within a period it sums its
// balances' days (listening_day), never an allocation either.
describe('statement query plans (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$executeRawUnsafe(`
      INSERT INTO recipient (id, address) SELECT id, 'r' || id FROM generate_series(1, 50) id;
      INSERT INTO app_recipient (recipient_id, app_id) SELECT id, app FROM generate_series(1, 50) id CROSS JOIN (VALUES ('app-a'), ('app-b')) a(app);
      INSERT INTO balance (id, recipient_id, app_id, feed_guid, item_guid)
      SELECT i, 1 + i % 50, CASE WHEN i % 2 = 0 THEN 'app-a' ELSE 'app-b' END, 'feed-' || (i % 20), 'item-' || i FROM generate_series(1, 20000) i;
      INSERT INTO listening_event (id, app_id, event_id, payload, amount_msat, applied_at)
      SELECT i, 'app-a', 'e-' || i, '{}', 4000, now() FROM generate_series(1, 100000) i;
      INSERT INTO allocation (event_id, balance_id, amount_msat)
      SELECT i, CASE WHEN i % 3 = 0 THEN 1 + (i % 400) * 50 ELSE 1 + i % 20000 END, 4000 FROM generate_series(1, 100000) i;
      INSERT INTO listening_day (recipient_id, day, balance_id, listened_msat)
      SELECT b.recipient_id, date '2026-01-01' + (a.event_id % 60)::int, a.balance_id, SUM(a.amount_msat)
      FROM allocation a JOIN balance b ON b.id = a.balance_id GROUP BY 1, 2, 3;
      INSERT INTO episode (app_id, feed_guid, item_guid) SELECT app_id, feed_guid, item_guid FROM balance;
      INSERT INTO episode (app_id, feed_guid, item_guid) SELECT 'app-c', 'show-' || (i % 1000), 'episode-' || i FROM generate_series(1, 200000) i;
      INSERT INTO boost (id, app_id, boost_id, payload, amount_msat, boost_uuid)
      SELECT i, 'app-a', 'b-' || i, '{}', 1000, gen_random_uuid() FROM generate_series(1, 5000) i;
      UPDATE balance SET boost_id = id WHERE id % 10 = 0 AND id <= 5000;
      INSERT INTO payout (id, trigger, status) VALUES (1, 'schedule', 'completed');
      INSERT INTO payment (id, payout_id, recipient_id, balance_id, app_id, reference, amount_sats, attempt, status, custom_records, destination, fee_sats)
      SELECT id, 1, recipient_id, id, app_id, 'ref-' || id, 4, 1, 'succeeded', '{}', 'x', 1 FROM balance WHERE id % 2 = 0;
      INSERT INTO payment_part (payment_id, balance_id, msat) SELECT id, balance_id, 4000 FROM payment;
      ANALYZE`);
  }, 120_000);
  afterAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$disconnect();
  });

  it.each([
    ['an app key', 'app-a'],
    ['an admin key', null],
  ])('without a period, %s reads the balances of the recipient by index and no allocation', async (_, tenant) => {
    const nodes = await planOf(prisma, statementEpisodesSql(tenant, 1n, {}));
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    expect(nodes.filter((n) => n['Relation Name'] === 'allocation')).toEqual([]);
    const balanceIndexes = nodes.flatMap((n) => n['Index Name'] ?? []).filter((i) => i.startsWith('balance'));
    // Either index reads this recipient's balances only: (recipient_id, app_id) or (app_id, recipient_id).
    expect(balanceIndexes).toHaveLength(1);
    expect(['balance_recipient_id_app_id_idx', 'balance_app_id_recipient_id_idx']).toContain(balanceIndexes[0]);
  });

  it.each([
    ['an app key', 'app-a'],
    ['an admin key', null],
  ])("within a period, %s sums one range of the recipient's days by listening_day's key and reads no allocation", async (_, tenant) => {
    const nodes = await planOf(prisma, statementEpisodesSql(tenant, 1n, { from: new Date('2026-01-10'), to: new Date('2026-01-17') }));
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    expect(nodes.filter((n) => n['Relation Name'] === 'allocation')).toEqual([]);
    expect(nodes.flatMap((n) => n['Index Name'] ?? [])).toContain('listening_day_pkey');
  });
});
