import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { APPLY_EVENTS } from '@splitstream/ledger';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { eventually } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';
import { killWorkerProcess, startWorkerProcess } from '../support/worker-process.js';

const recipients = Array.from({ length: 12 }, (_, i) => pubkey(0x5ca1e0 + i));
// Events of 60 s at 60 sats/min (60,000 msat) to four of the twelve recipients, over six episodes.
const event = (n: number) => ({
  id: `scale-${n}`,
  feedGuid: 'scale-feed',
  itemGuid: `item-${n % 6}`,
  position: 0,
  seconds: 60,
  satsPerMinute: 60,
  value: { type: 'lightning', method: 'keysend', recipients: [0, 1, 2, 3].map((k) => ({ type: 'node', address: recipients[(n + k * 3) % 12]!, split: 1 })) },
});

// Several worker processes against one PostgreSQL and Redis: three apply one backlog at once, their batches
// overlapping; two payout runs are asked for at once. The books stay exact and one run pays at a time.
describe('scale out: several workers (e2e)', () => {
  let stack: Stack;
  const workers: ChildProcess[] = [];
  const eventIds = async () => (await query<{ id: string }>(stack.config.DATABASE_URL, 'SELECT id::text FROM listening_event ORDER BY id')).map((r) => r.id);
  const expectExactBooks = async (events: number) => {
    const report = await stack.invariant();
    expect(report).toMatchObject({ ok: true, problems: [], eventsMsat: String(events * 60_000), accruedMsat: String(events * 60_000) });
    const [counts] = await query<{ allocations: string; applied: string }>(
      stack.config.DATABASE_URL,
      'SELECT (SELECT count(*) FROM allocation) AS allocations, (SELECT count(*) FROM listening_event WHERE applied_at IS NOT NULL) AS applied',
    );
    expect(counts).toEqual({ allocations: String(events * 4), applied: String(events) });
  };

  beforeAll(async () => {
    stack = await startStack({ KEYSEND_BATCH_SIZE: '5' }, { worker: false });
  });
  afterAll(async () => {
    for (const w of workers) await killWorkerProcess(w);
    await stack.close();
  });

  it('three workers apply one backlog, with the same events in several concurrent jobs, exactly once', async () => {
    // The backlog: 40 requests of 25 events (their jobs queued by the api), a duplicate in the middle of one.
    for (let r = 0; r < 40; r++) {
      const batch = Array.from({ length: 25 }, (_, i) => event(r * 25 + i));
      batch.splice(12, 0, batch[3]!);
      expect((await stack.postEvents(batch)).duplicates).toBe(1);
    }
    // The same events again in jobs of their own, overlapping the api's jobs and each other.
    const ids = await eventIds();
    const queue = new Queue(APPLY_EVENTS.queue, { connection: { url: stack.config.REDIS_URL }, prefix: stack.config.QUEUE_PREFIX });
    await queue.addBulk(Array.from({ length: 20 }, (_, j) => ({ name: APPLY_EVENTS.name, data: { eventIds: ids.slice(j * 40, j * 40 + 200) } })));
    await queue.close();

    for (let i = 0; i < 3; i++) workers.push(await startWorkerProcess(stack.config, { logLevel: 'error' }));
    await stack.accumulated();
    await expectExactBooks(1000);
  }, 60_000);

  it('a worker killed mid-backlog (batches committed, jobs not acknowledged): the next one applies nothing twice', async () => {
    const queue = new Queue(APPLY_EVENTS.queue, { connection: { url: stack.config.REDIS_URL }, prefix: stack.config.QUEUE_PREFIX });
    for (const w of workers.splice(0)) await killWorkerProcess(w);
    for (let r = 0; r < 10; r++) await stack.postEvents(Array.from({ length: 25 }, (_, i) => event(1000 + r * 25 + i)));
    const lone = await startWorkerProcess(stack.config, { logLevel: 'error' });
    // Killed as soon as it has committed some of the backlog: its active jobs are left unacknowledged.
    await eventually(
      async () => (await stack.http.get('/v1/summary')).body.events.awaitingAccumulation,
      (n) => n < 250,
      15_000,
    );
    await killWorkerProcess(lone);
    // Their jobs come back (stalled) and are applied again by the next worker: as no-ops for what was committed.
    await queue.addBulk([{ name: APPLY_EVENTS.name, data: { eventIds: (await eventIds()).slice(1000) } }]);
    await queue.close();
    workers.push(await startWorkerProcess(stack.config, { logLevel: 'error' }));
    await stack.accumulated();
    await expectExactBooks(1250);
  }, 60_000);

  it('two payout runs asked for at once across workers: one run starts, both requests answer it, every recipient paid once', async () => {
    workers.push(await startWorkerProcess(stack.config, { logLevel: 'error' }));
    const [first, second] = await Promise.all([stack.http.post('/v1/payouts/run', {}), stack.http.post('/v1/payouts/run', {})]);
    expect([first.status, second.status].sort()).toEqual([200, 202]);
    expect(second.body.id).toBe(first.body.id);
    const run = await eventually(
      () => stack.http.get(`/v1/payouts/${first.body.id}`),
      (res) => ['completed', 'skipped', 'partial', 'failed'].includes(res.body.status),
      30_000,
    );
    expect(run.body.status).toBe('completed');
    // The sim was paid each episode balance of each recipient once: one payment per balance, none twice.
    const payments = await stack.sim.payments();
    const balances = await query<{ n: string }>(stack.config.DATABASE_URL, 'SELECT count(*) AS n FROM balance WHERE paid_msat > 0');
    expect(payments).toHaveLength(Number(balances[0]!.n));
    expect(new Set(payments.map((p) => p.memo)).size).toBe(payments.length);
    const report = await stack.invariant();
    expect(report).toMatchObject({ ok: true, eventsMsat: String(1250 * 60_000) });
    expect(BigInt(report.paidMsat) + BigInt(report.owedMsat)).toBe(BigInt(1250 * 60_000));
  }, 60_000);
});
