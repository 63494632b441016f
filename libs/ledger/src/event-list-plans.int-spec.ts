import { PrismaService } from '@splitstream/persistence';
import { truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { type EventFilter, eventListSql } from './ledger-queries.service.js';
import { EventStatus } from './statuses.js';
import { planOf } from './testing/ledger-fixtures.js';

// GET /v1/events under app B's key, on a table where app A holds most rows, on the very feed, episode and
// status B names: each list must be read through an index that starts with app_id (what it reads is B's rows
// only), never by scanning the table or its primary key (every app's rows: slow, and a timing oracle on A's).
describe('GET /v1/events query plans (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    const value = `jsonb_build_object('type','lightning','method','keysend','recipients','[]'::jsonb)`;
    // B's events first: all of A's are newer (a backward walk of the primary key meets every one of them first).
    await prisma.$executeRawUnsafe(`
      INSERT INTO listening_event (app_id, event_id, payload, amount_msat, received_at, applied_at)
      SELECT 'app-b', 'b-'||i, jsonb_build_object('id','b-'||i,'feedGuid','b-feed-'||(i%50),'itemGuid','b-item-'||i,'value',${value}), 1000,
             now() - interval '2 days', now()
      FROM generate_series(1, 20000) i`);
    await prisma.$executeRawUnsafe(`
      INSERT INTO listening_event (app_id, event_id, payload, amount_msat, applied_at)
      SELECT 'app-a', 'a-'||i, jsonb_build_object('id','a-'||i,'feedGuid','hot','itemGuid','item-'||(i%500),'value',${value}), 1000, now()
      FROM generate_series(1, 60000) i`);
    await prisma.$executeRawUnsafe(`
      INSERT INTO listening_event (app_id, event_id, payload, amount_msat, apply_error)
      SELECT 'app-a', 'a-backlog-'||i, jsonb_build_object('id','a-backlog-'||i,'feedGuid','hot','itemGuid','item-x','value',${value}), 1000,
             CASE WHEN i % 10 = 0 THEN 'refused' END
      FROM generate_series(1, 20000) i`);
    await prisma.$executeRawUnsafe('ANALYZE listening_event');
  }, 120_000);
  afterAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$disconnect();
  });

  const plan = (filter: Partial<EventFilter>) => planOf(prisma, eventListSql({ tenant: 'app-b', limit: 20, ...filter }));
  const firstColumn = async (index: string) => {
    const [row] = await prisma.$queryRaw<{ column: string }[]>`
      SELECT a.attname AS column FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indexrelid = ${index}::regclass`;
    return row?.column;
  };

  it.each<[string, Partial<EventFilter>]>([
    ["another app's feed", { feedGuid: 'hot' }],
    ["another app's episode", { itemGuid: 'item-7' }],
    ['awaiting (another app has a backlog)', { status: EventStatus.Awaiting }],
    ['set aside (another app has some)', { status: EventStatus.SetAside }],
    ['its own feed', { feedGuid: 'b-feed-3' }],
    ['no filter', {}],
    ['applied', { status: EventStatus.Applied }],
    ['received since', { since: new Date(Date.now() - 3 * 86_400_000) }],
    ['received until', { until: new Date() }],
  ])("reads app B's own rows only, through an app_id-first index: %s", async (_, filter) => {
    const nodes = await plan(filter);
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    const indexes = nodes.flatMap((n) => n['Index Name'] ?? []);
    expect(indexes.length).toBeGreaterThan(0);
    for (const index of indexes) expect([index, await firstColumn(index)]).toEqual([index, 'app_id']);
  });
});
