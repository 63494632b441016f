import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { eventually, request } from '../support/http.js';
import { freePort } from '../support/outages.js';
import { type Stack, startStack } from '../support/stack.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { toEnvironment } from '@splitstream/config';

const exitWithin = async (child: ChildProcess, ms: number) => {
  const started = Date.now();
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  clearTimeout(timer);
  return Date.now() - started;
};
const answers = (port: number) =>
  request(`http://127.0.0.1:${port}`, '/health').then(
    (r) => r.status,
    () => 0,
  );

// SIGTERM and SIGINT stop the service gracefully: nothing keeps running, and a run in flight records what it sent.
describe('graceful shutdown (e2e)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ KEYSEND_BATCH_SIZE: '1' }, { worker: false });
  });
  afterAll(() => stack.close());

  it('npm start: SIGTERM stops the api, the worker and the simulator within 10 s', async () => {
    const [api, worker, sim] = [await freePort(), await freePort(), await freePort()];
    const child = spawn('npm', ['start'], {
      env: {
        ...process.env,
        ...toEnvironment(stack.config),
        QUEUE_PREFIX: `ssstop-${randomUUID().slice(0, 8)}`,
        API_PORT: String(api),
        WORKER_PORT: String(worker),
        SIM_PORT: String(sim),
        METRICS_PORT: '0', // the stack's in-process api and worker hold its /metrics ports
        WORKER_METRICS_PORT: '0',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
      detached: true,
    });
    try {
      await eventually(
        async () => [await answers(api), await answers(worker)],
        ([a, w]) => a === 200 && w === 200,
        150_000,
      );
      child.kill('SIGTERM');
      expect(await exitWithin(child, 10_000)).toBeLessThan(10_000);
      expect(child.signalCode === 'SIGKILL').toBe(false);
      expect([await answers(api), await answers(worker), await answers(sim)]).toEqual([0, 0, 0]);
    } finally {
      // Whatever is left of the process group, if the test failed.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // nothing left
      }
    }
  }, 180_000);

  it('a worker stopped mid-run records the chunk in flight, returns the rest to owed and ends the run interrupted', async () => {
    const recipients = [0xd1, 0xd2, 0xd3].map((n, i) => ({ name: `D${i}`, type: 'node', address: pubkey(n), split: 1 }));
    await stack.postEvents(
      recipients.map((r, i) => ({
        id: `stop-${i}`,
        feedGuid: 'feed-stop',
        itemGuid: `item-${i}`,
        position: 0,
        seconds: 60,
        satsPerMinute: 100,
        value: { type: 'lightning', method: 'keysend', recipients: [r] },
      })),
    );
    const worker = await startWorkerProcess(stack.config, { logLevel: 'error' });
    await stack.accumulated();
    for (const r of recipients) await stack.sim.setRule(r.address, { delayMs: 2_000 });
    const statuses = async () => (await query<{ status: string }>(stack.config.DATABASE_URL, 'SELECT status FROM payment ORDER BY id')).map((r) => r.status);
    const run = await stack.http.post('/v1/payouts/run', {});
    await eventually(statuses, (s) => s.includes('sending'), 15_000);
    worker.kill('SIGTERM');
    expect(await exitWithin(worker, 10_000)).toBeLessThan(10_000);
    // Nest re-raises the signal once its shutdown hooks are done: a clean end by SIGTERM, not a SIGKILL.
    expect(worker.signalCode).toBe('SIGTERM');

    expect(await statuses()).toEqual(['succeeded', 'cancelled', 'cancelled']);
    expect((await stack.http.get(`/v1/payouts/${run.body.id}`)).body).toMatchObject({ status: 'interrupted', note: 'the worker was stopped during the run' });
    expect(await stack.invariant()).toMatchObject({ ok: true, paidMsat: '100000', owedMsat: '200000', inFlightMsat: '0' });
    expect((await stack.sim.payments()).length).toBe(1);
  });
});
