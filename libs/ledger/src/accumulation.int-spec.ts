import { listeningEventSchema } from '@splitstream/ingestion';
import { PrismaService } from '@splitstream/persistence';
import { worstAllowedBlock } from '../../money/src/testing/adversarial.js';
import { query, truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { AccumulationService } from './accumulation.service.js';
import { PAYLOAD_BYTES_PER_PASS } from './apply-passes.js';

// A batch larger than one pass (events with the largest value blocks the limits allow) is applied in several passes
// of one transaction: every event once, every share its own allocation row, the balances their exact sums.
describe('applying a batch in passes (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const accumulation = new AccumulationService(prisma);

  beforeAll(async () => {
    await prisma.onModuleInit();
    await truncateAll(config.DATABASE_URL);
  });
  afterAll(() => prisma.onModuleDestroy());

  it('applies every event of a batch larger than one pass exactly once, to the msat', async () => {
    const payload = listeningEventSchema.parse({
      id: 'x',
      feedGuid: 'f',
      itemGuid: 'i',
      position: 0,
      seconds: 3_600,
      satsPerMinute: 1,
      value: worstAllowedBlock(),
    });
    const [{ bytes }] = await query<{ bytes: number }>(config.DATABASE_URL, 'SELECT pg_column_size($1::jsonb) AS bytes', [JSON.stringify(payload)]);
    const count = Math.ceil((2.5 * PAYLOAD_BYTES_PER_PASS) / bytes);
    const ids = await query<{ id: string }>(
      config.DATABASE_URL,
      `INSERT INTO listening_event (app_id, event_id, payload, amount_msat)
       SELECT 'app', 'e-' || g, $1::jsonb, 1000003 + g FROM generate_series(1, $2::int) g RETURNING id`,
      [JSON.stringify(payload), count],
    );

    expect(await accumulation.applyEvents(ids.map((r) => BigInt(r.id)))).toBe(count);
    expect(await accumulation.applyEvents(ids.map((r) => BigInt(r.id)))).toBe(0);

    const [books] = await query<{ unapplied: string; mismatched: string; events: string; allocated: string; accrued: string }>(
      config.DATABASE_URL,
      `SELECT (SELECT count(*) FROM listening_event WHERE applied_at IS NULL) AS unapplied,
              (SELECT count(*) FROM listening_event e WHERE e.amount_msat <> (SELECT SUM(amount_msat) FROM allocation a WHERE a.event_id = e.id)) AS mismatched,
              (SELECT SUM(amount_msat) FROM listening_event) AS events, (SELECT SUM(amount_msat) FROM allocation) AS allocated,
              (SELECT SUM(accrued_msat) FROM balance) AS accrued`,
    );
    expect(books).toEqual({ unapplied: '0', mismatched: '0', events: books!.allocated, allocated: books!.accrued, accrued: books!.events });
  });
});
