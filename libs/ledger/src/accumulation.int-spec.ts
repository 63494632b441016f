import { listeningEventSchema } from '@splitstream/ingestion';
import { PrismaService, SqlPool } from '@splitstream/persistence';
import { worstAllowedBlock } from '../../money/src/testing/adversarial.js';
import { pubkey } from '../../money/src/testing/value-builders.js';
import { query, truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { AccumulationService } from './accumulation.service.js';
import { PAYLOAD_BYTES_PER_PASS } from './apply-passes.js';

// A batch larger than one pass (events with the largest value blocks the limits allow) is applied in several passes
// of one transaction: every event once, every share its own allocation row, the balances their exact sums.
describe('applying a batch in passes (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const pool = new SqlPool(config);
  const accumulation = new AccumulationService(prisma, pool);

  beforeAll(async () => {
    await prisma.onModuleInit();
    await truncateAll(config.DATABASE_URL);
  });
  afterAll(async () => {
    await pool.end();
    await prisma.onModuleDestroy();
  });

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

    expect((await accumulation.applyEvents(ids.map((r) => BigInt(r.id)))).size).toBe(count);
    expect((await accumulation.applyEvents(ids.map((r) => BigInt(r.id)))).size).toBe(0);

    const [books] = await query<{ unapplied: string; mismatched: string; events: string; allocated: string; accrued: string }>(
      config.DATABASE_URL,
      `SELECT (SELECT count(*) FROM listening_event WHERE applied_at IS NULL) AS unapplied,
              (SELECT count(*) FROM listening_event e WHERE e.amount_msat <> (SELECT SUM(amount_msat) FROM allocation a WHERE a.event_id = e.id)) AS mismatched,
              (SELECT SUM(amount_msat) FROM listening_event) AS events, (SELECT SUM(amount_msat) FROM allocation) AS allocated,
              (SELECT SUM(accrued_msat) FROM balance) AS accrued`,
    );
    expect(books).toEqual({ unapplied: '0', mismatched: '0', events: books!.allocated, allocated: books!.accrued, accrued: books!.events });
  });

  it("adds each balance's listening to the UTC day its events were received, in sums equal to their allocations", async () => {
    await truncateAll(config.DATABASE_URL);
    const block = (split: number) => ({
      type: 'lightning',
      method: 'keysend',
      recipients: [
        { name: 'Host', type: 'node', address: pubkey(1), split },
        { name: 'Guest', type: 'node', address: pubkey(2), split: 100 - split },
      ],
    });
    // Two episodes, events either side of two UTC midnights, each of an amount that splits unevenly.
    const received = ['2026-11-09T23:59:59.999Z', '2026-11-10T00:00:00Z', '2026-11-10T12:00:00Z', '2026-11-10T23:59:59Z', '2026-11-11T00:00:01Z'];
    const ids: bigint[] = [];
    for (const [i, at] of received.entries()) {
      for (const item of ['i1', 'i2']) {
        const payload = listeningEventSchema.parse({
          id: `${item}-${i}`,
          feedGuid: 'f',
          itemGuid: item,
          position: 0,
          seconds: 60,
          satsPerMinute: 7,
          value: block(33),
        });
        const [row] = await query<{ id: string }>(
          config.DATABASE_URL,
          `INSERT INTO listening_event (app_id, event_id, payload, amount_msat, received_at) VALUES ('app', $1, $2::jsonb, $3, $4) RETURNING id`,
          [`${item}-${i}`, JSON.stringify(payload), 7001 + i, at],
        );
        ids.push(BigInt(row!.id));
      }
    }
    expect((await accumulation.applyEvents(ids)).size).toBe(ids.length);

    const days = await query<{ balance_id: string; day: string; listened: string }>(
      config.DATABASE_URL,
      `SELECT l.balance_id, to_char(l.day, 'YYYY-MM-DD') AS day, l.listened_msat AS listened FROM listening_day l
       JOIN balance b ON b.id = l.balance_id AND b.recipient_id = l.recipient_id ORDER BY 1, 2`,
    );
    const allocations = await query<{ balance_id: string; day: string; listened: string }>(
      config.DATABASE_URL,
      `SELECT a.balance_id, to_char(le.received_at, 'YYYY-MM-DD') AS day, SUM(a.amount_msat)::text AS listened
       FROM allocation a JOIN listening_event le ON le.id = a.event_id GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    // Four balances (two recipients, two episodes), three days each.
    expect(days).toHaveLength(12);
    expect(days.map((d) => d.day).slice(0, 3)).toEqual(['2026-11-09', '2026-11-10', '2026-11-11']);
    expect(days).toEqual(allocations);
  });
  it('splits each long value block by its own recipients, however alike two blocks are (same length, one address apart)', async () => {
    await truncateAll(config.DATABASE_URL);
    // Over 16,000 characters of text each: such a block's split is remembered by its digest.
    const block = (last: number) => ({
      type: 'lightning',
      method: 'keysend',
      recipients: Array.from({ length: 100 }, (_, i) => ({
        name: `Recipient ${'x'.repeat(80)} ${i}`,
        type: 'node',
        address: pubkey(i === 99 ? last : 10 + i),
        split: 1,
      })),
    });
    const ids: bigint[] = [];
    for (const last of [1, 2]) {
      const payload = listeningEventSchema.parse({
        id: `long-${last}`,
        feedGuid: 'f',
        itemGuid: 'i',
        position: 0,
        seconds: 60,
        satsPerMinute: 120,
        value: block(last),
      });
      expect(JSON.stringify(payload.value).length).toBeGreaterThan(16_000);
      const [row] = await query<{ id: string }>(
        config.DATABASE_URL,
        `INSERT INTO listening_event (app_id, event_id, payload, amount_msat) VALUES ('app', $1, $2::jsonb, 120000) RETURNING id`,
        [`long-${last}`, JSON.stringify(payload)],
      );
      ids.push(BigInt(row!.id));
    }
    expect((await accumulation.applyEvents(ids)).size).toBe(2);
    const lastShares = await query<{ event_id: string; address: string }>(
      config.DATABASE_URL,
      `SELECT le.event_id, r.address FROM allocation a JOIN listening_event le ON le.id = a.event_id JOIN balance b ON b.id = a.balance_id
       JOIN recipient r ON r.id = b.recipient_id WHERE r.address IN ($1, $2) ORDER BY 1`,
      [pubkey(1), pubkey(2)],
    );
    expect(lastShares).toEqual([
      { event_id: 'long-1', address: pubkey(1) },
      { event_id: 'long-2', address: pubkey(2) },
    ]);
  });
});
