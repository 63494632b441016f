import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { PrismaService } from '@splitstream/persistence';
import { PrismaClient } from '../../persistence/src/generated/prisma/client.js';
import type { PlanNode } from '../../ledger/src/testing/ledger-fixtures.js';
import { truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { PayoutQueries } from './payout-queries.service.js';

// An app's list of runs (GET /v1/payouts with an app key) on runs of thousands of another app's payments: whether a
// run had a payment of the app's, and what the app's payments add up to, are read by the (payout_id, app_id) index,
// never by walking every payment of the run through its balance. Every statement the list runs is captured and
// explained with its parameters.
describe('runs and paid per hour for an app key (integration)', () => {
  const config = testConfig();
  const statements: { query: string; params: unknown[] }[] = [];
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: config.DATABASE_URL }), log: [{ emit: 'event', level: 'query' }] });
  prisma.$on('query', (event) => statements.push({ query: event.query, params: JSON.parse(event.params) as unknown[] }));
  const queries = new PayoutQueries(prisma as unknown as PrismaService);
  const db = new pg.Client({ connectionString: config.DATABASE_URL });

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await db.connect();
    await db.query(`
      INSERT INTO recipient (id, address) VALUES (1, 'r1');
      INSERT INTO app_recipient (recipient_id, app_id) VALUES (1, 'app-a'), (1, 'app-b');
      INSERT INTO balance (id, recipient_id, app_id, feed_guid, item_guid)
      SELECT i, 1, CASE WHEN i = 1 THEN 'app-b' ELSE 'app-a' END, 'f', 'i-' || i FROM generate_series(1, 20001) i;
      INSERT INTO payout (id, trigger, status) VALUES (1, 'schedule', 'completed'), (2, 'schedule', 'completed'), (3, 'schedule', 'completed'),
        (4, 'boost', 'completed');
      INSERT INTO payment (payout_id, recipient_id, balance_id, app_id, reference, amount_sats, attempt, status, custom_records, destination)
      SELECT 1 + i % 2, 1, i, 'app-a', 'a-' || i, 1, 1, 'succeeded', '{}', 'x' FROM generate_series(2, 20001) i;
      INSERT INTO payment (payout_id, recipient_id, balance_id, app_id, reference, amount_sats, attempt, status, custom_records, destination)
      VALUES (3, 1, 1, 'app-b', 'b-1', 5, 1, 'succeeded', '{}', 'x'), (4, 1, 2, 'app-a', 'a-boost', 1, 1, 'succeeded', '{}', 'x');
      ANALYZE`);
  }, 120_000);
  afterAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await db.end();
    await prisma.$disconnect();
  });

  const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];
  const explain = async ({ query, params }: { query: string; params: unknown[] }) => {
    const { rows } = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${query}`, params);
    return nodesOf(rows[0]!['QUERY PLAN'][0].Plan);
  };

  it("shows app B its own run whole and app A's runs as nothing due, reading payments by run and app only", async () => {
    statements.length = 0;
    // Run 4 paid only app A's boosts: app B never sees it.
    expect((await queries.list('app-a', 20)).payouts.map((p) => p.id)).toEqual(['4', '3', '2', '1']);
    statements.length = 0;
    const { payouts } = await queries.list('app-b', 20);
    expect(payouts.map((p) => [p.id, p.status, p.totals.keysends, p.totals.paidSats])).toEqual([
      ['3', 'completed', 1, 5],
      ['2', 'skipped', 0, 0],
      ['1', 'skipped', 0, 0],
    ]);
    const paymentStatements = statements.filter((s) => s.query.includes('payment'));
    expect(paymentStatements.length).toBeGreaterThanOrEqual(2);
    for (const statement of paymentStatements) {
      const nodes = await explain(statement);
      // Through the balances, an app's share of a run is found only by reading every payment of the run.
      expect({ query: statement.query, balance: nodes.filter((n) => n['Relation Name'] === 'balance').length }).toEqual({ query: statement.query, balance: 0 });
      const byRunAndApp = nodes.filter((n) => n['Index Name'] === 'payment_payout_id_app_id_idx' && JSON.stringify(n).includes('app_id ='));
      expect({ query: statement.query, byRunAndApp: byRunAndApp.length > 0 }).toEqual({ query: statement.query, byRunAndApp: true });
    }
  });

  it("counts an app's own payments only in its paid per hour, every app's for an admin", async () => {
    await db.query(`UPDATE payment SET finished_at = now()`);
    const lastHour = async (tenant: string | null) => (await queries.paidPerHour(tenant, 1)).hours[0]!;
    expect(await lastHour('app-b')).toMatchObject({ paidMsat: '5000', keysends: 1 });
    expect(await lastHour('app-a')).toMatchObject({ paidMsat: '20001000', keysends: 20_001 });
    expect(await lastHour(null)).toMatchObject({ paidMsat: '20006000', keysends: 20_002 });
  });
});
