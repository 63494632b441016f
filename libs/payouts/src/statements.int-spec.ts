import { listeningEventSchema } from '@splitstream/ingestion';
import { AccumulationService } from '@splitstream/ledger';
import { PrismaService, SqlPool } from '@splitstream/persistence';
import { pubkey } from '../../money/src/testing/value-builders.js';
import { query, truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { StatementsService } from './statements.service.js';

// A statement for a period, against the real PostgreSQL: listening received on three UTC days (events a millisecond
// either side of midnight), applied by the worker's own accumulation; each period counts exactly its days, an app
// key only its own app's.
describe('statements for a period (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const statements = new StatementsService(prisma);
  const host = pubkey(7);
  // Per day, the msat each app's events there are worth (host takes all of it: one recipient, split 100).
  const days = { '2026-11-09': 1_001n, '2026-11-10': 20_002n, '2026-11-11': 300_003n };
  const received = {
    '2026-11-09': '2026-11-09T23:59:59.999Z',
    '2026-11-10': ['2026-11-10T00:00:00Z', '2026-11-10T23:59:59.999Z'],
    '2026-11-11': '2026-11-11T00:00:00Z',
  };
  let recipientId: bigint;

  beforeAll(async () => {
    await truncateAll(config.DATABASE_URL);
    const ids: bigint[] = [];
    for (const app of ['app-a', 'app-b']) {
      for (const [day, msat] of Object.entries(days)) {
        const times = [received[day as keyof typeof received]].flat();
        for (const [i, at] of times.entries()) {
          // The day's amount spread over its events (the first takes the remainder).
          const amount = msat / BigInt(times.length) + (i === 0 ? msat % BigInt(times.length) : 0n);
          const id = `${app}-${day}-${i}`;
          const payload = listeningEventSchema.parse({
            id,
            feedGuid: 'show',
            itemGuid: 'episode',
            position: 0,
            seconds: 60,
            satsPerMinute: 1,
            value: { type: 'lightning', method: 'keysend', recipients: [{ name: 'Host', type: 'node', address: host, split: 100 }] },
          });
          const [row] = await query<{ id: string }>(
            config.DATABASE_URL,
            `INSERT INTO listening_event (app_id, event_id, payload, amount_msat, received_at) VALUES ($1, $2, $3::jsonb, $4, $5) RETURNING id`,
            [app, id, JSON.stringify(payload), String(amount), at],
          );
          ids.push(BigInt(row!.id));
        }
      }
    }
    const pool = new SqlPool(config);
    expect((await new AccumulationService(prisma, pool).applyEvents(ids)).size).toBe(ids.length);
    await pool.end();
    recipientId = (await prisma.recipient.findFirstOrThrow({ where: { address: host } })).id;
  });
  afterAll(() => prisma.$disconnect());

  const accrued = async (tenant: string | null, from?: string, to?: string) =>
    (await statements.statement(tenant, recipientId, { from: from ? new Date(from) : undefined, to: to ? new Date(to) : undefined }))!.totals.accruedMsat;

  it.each([
    ['the middle day', '2026-11-10', '2026-11-11', days['2026-11-10']],
    ['the first day', '2026-11-09', '2026-11-10', days['2026-11-09']],
    ['from the last day on', '2026-11-11', undefined, days['2026-11-11']],
    ['up to the middle day', undefined, '2026-11-10', days['2026-11-09']],
    ['the three days', '2026-11-09', '2026-11-12', days['2026-11-09'] + days['2026-11-10'] + days['2026-11-11']],
    ['a day before them all', '2026-11-08', '2026-11-09', 0n],
    ['a period that ends before it starts', '2026-11-11', '2026-11-10', 0n],
  ])('counts exactly %s, an app key its own app only', async (_, from, to, msat) => {
    expect(await accrued('app-a', from, to)).toBe(String(msat));
    expect(await accrued(null, from, to)).toBe(String(2n * msat));
  });
});
