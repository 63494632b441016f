import { PrismaService } from '@splitstream/persistence';
import { type PlanNode, planOf } from '../../ledger/src/testing/ledger-fixtures.js';
import { truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { anyWaitingSql, waitingAmongSql } from './value-resolution.service.js';

// Every apply job asks whether its events wait for a block. Under a backlog the statistics still say nothing is
// awaiting (the events arrived since the last ANALYZE): the lookup must still go by primary key, not walk the
// awaiting index (every unapplied event, for every job).
describe('events waiting for a block: query plans under a backlog (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const BACKLOG = 30_000;

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$executeRawUnsafe(`
      INSERT INTO listening_event (app_id, event_id, payload, amount_msat, applied_at)
      SELECT 'app-a', 'e-'||i, jsonb_build_object('id','e-'||i,'feedGuid','f','itemGuid','i','value',jsonb_build_object('recipients','[]'::jsonb)), 1000, now()
      FROM generate_series(1, ${BACKLOG}) i`);
    await prisma.$executeRawUnsafe('ANALYZE listening_event');
    // The backlog, as statistics taken before it do not know it.
    await prisma.$executeRawUnsafe('UPDATE listening_event SET applied_at = NULL');
  }, 120_000);
  afterAll(async () => {
    await truncateAll(config.DATABASE_URL);
    await prisma.$disconnect();
  });

  const ids = Array.from({ length: 100 }, (_, i) => BigInt(BACKLOG - 200 + i));
  const indexesRead = (nodes: PlanNode[]) => nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : n['Node Type'] === 'Seq Scan' ? ['(seq scan)'] : []));

  it.each([
    ['anyWaiting', anyWaitingSql(ids)],
    ['waitingAmong', waitingAmongSql(ids)],
  ])('%s reads the asked events by primary key', async (_, sql) => {
    expect(indexesRead(await planOf(prisma, sql))).toEqual(['listening_event_pkey']);
  });

  it('finds what waits: an event by reference among them, not yet looked for', async () => {
    expect((await prisma.$queryRaw<{ waiting: boolean }[]>(anyWaitingSql(ids)))[0]!.waiting).toBe(false);
    await prisma.$executeRaw`UPDATE listening_event SET payload = payload - 'value' WHERE id = ${ids[7]!}`;
    expect((await prisma.$queryRaw<{ waiting: boolean }[]>(anyWaitingSql(ids)))[0]!.waiting).toBe(true);
    const rows = await prisma.$queryRaw<{ id: bigint; waiting: boolean }[]>(waitingAmongSql(ids));
    expect(rows.filter((r) => r.waiting).map((r) => r.id)).toEqual([ids[7]]);
    const waitingNow = async () => (await prisma.$queryRaw<{ waiting: boolean }[]>(anyWaitingSql(ids)))[0]!.waiting;
    for (const [change, undo] of [
      [`resolve_after = now() + interval '1 hour'`, 'resolve_after = NULL'], // backing off
      [`resolved_value = '{}'`, 'resolved_value = NULL'], // found
      [`apply_error = 'set aside'`, 'apply_error = NULL'],
      ['applied_at = now()', 'applied_at = NULL'],
    ]) {
      await prisma.$executeRawUnsafe(`UPDATE listening_event SET ${change} WHERE id = ${ids[7]!}`);
      expect([change, await waitingNow()]).toEqual([change, false]);
      await prisma.$executeRawUnsafe(`UPDATE listening_event SET ${undo} WHERE id = ${ids[7]!}`);
      expect([undo, await waitingNow()]).toEqual([undo, true]);
    }
  });
});
