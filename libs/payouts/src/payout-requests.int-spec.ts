import { PayoutStatus } from '@splitstream/ledger';
import { PrismaService } from '@splitstream/persistence';
import type { JobQueue } from '@splitstream/queue';
import { truncateAll } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { PayoutRequests } from './payout-requests.service.js';

// Asking for payout runs against the real PostgreSQL (its partial unique index payout_one_active) and a job queue
// that records what it is given, or fails like a Redis that is down.
describe('PayoutRequests: at most one run queued or running (integration)', () => {
  const config = testConfig({ PAYOUT_HEARTBEAT_TIMEOUT_SECONDS: '60' });
  const prisma = new PrismaService(config);
  let enqueued: string[];
  let redisDown: boolean;
  const jobs = {
    enqueue: async (_contract: unknown, data: { payoutId: string }) => {
      if (redisDown) throw new Error('Connection is closed.');
      enqueued.push(data.payoutId);
    },
  } as unknown as JobQueue;
  const requests = new PayoutRequests(prisma, jobs, config);
  const run = (id: bigint) => prisma.payout.findUniqueOrThrow({ where: { id } });
  const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

  beforeAll(() => prisma.$connect());
  beforeEach(async () => {
    await truncateAll(config.DATABASE_URL);
    enqueued = [];
    redisDown = false;
  });
  afterAll(() => prisma.$disconnect());

  it('many requests at once start one run; the others answer it; once it ended, the next request starts another', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => requests.requestManualRun()));
    const started = answers.filter((a) => a.started);
    expect(started).toEqual([{ id: expect.any(BigInt), started: true, status: PayoutStatus.Queued }]);
    expect(new Set(answers.map((a) => a.id))).toEqual(new Set([started[0]!.id]));
    expect(enqueued).toEqual([String(started[0]!.id)]);

    await prisma.payout.update({ where: { id: started[0]!.id }, data: { status: PayoutStatus.Running, startedAt: new Date(), heartbeatAt: new Date() } });
    expect(await requests.requestManualRun()).toEqual({ id: started[0]!.id, started: false, status: PayoutStatus.Running });
    // A scheduled tick while it runs starts nothing.
    expect(await requests.requestScheduledRun(new Date(), 300)).toBeUndefined();

    await prisma.payout.update({ where: { id: started[0]!.id }, data: { status: PayoutStatus.Completed } });
    const next = await requests.requestManualRun();
    expect(next).toMatchObject({ started: true });
    expect(next.id).not.toBe(started[0]!.id);
  });

  it('a queued run whose job was lost (older than the heartbeat timeout) is skipped and a new run takes its place', async () => {
    const lost = await prisma.payout.create({ data: { trigger: 'manual', status: PayoutStatus.Queued, createdAt: ago(120) } });
    const fresh = await requests.requestManualRun();
    expect(fresh).toMatchObject({ started: true });
    expect(await run(lost.id)).toMatchObject({ status: PayoutStatus.Skipped, superseded: true, note: 'its job was lost; a new run took its place' });
    expect(enqueued).toEqual([String(fresh.id)]);
  });

  it('a running run that stopped beating keeps its status for the worker that takes its lock over, and no longer blocks a new run', async () => {
    const hung = await prisma.payout.create({
      data: { trigger: 'manual', status: PayoutStatus.Running, startedAt: ago(300), heartbeatAt: ago(120) },
    });
    const tick = await requests.requestScheduledRun(new Date(), 300);
    expect(tick).toBeDefined();
    expect(await run(hung.id)).toMatchObject({ status: PayoutStatus.Running, superseded: true });
    expect(await run(tick!)).toMatchObject({ status: PayoutStatus.Queued, trigger: 'schedule', superseded: false });
  });

  it('a run whose job cannot be queued is skipped at once (it would hold the place of every later run), and the error is thrown', async () => {
    redisDown = true;
    await expect(requests.requestManualRun()).rejects.toThrow('Connection is closed.');
    const [failed] = await prisma.payout.findMany();
    expect(failed).toMatchObject({ status: PayoutStatus.Skipped, note: 'its job could not be queued' });
    redisDown = false;
    expect(await requests.requestManualRun()).toMatchObject({ started: true });
  });
});
