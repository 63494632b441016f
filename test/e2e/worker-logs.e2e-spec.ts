import type { ChildProcess } from 'node:child_process';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { eventually } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';
import { killWorkerProcess, startWorkerProcess } from '../support/worker-process.js';

const paid = pubkey(0x10a1);
const hangs = pubkey(0x10a2);
const dead = pubkey(0x10a3);
const node = (name: string, address: string, split: number) => ({ name, type: 'node', address, split });
const event = (id: string, recipients: object[]) => ({
  id,
  feedGuid: 'log-feed',
  itemGuid: 'log-item',
  position: 0,
  seconds: 60,
  satsPerMinute: 100,
  value: { type: 'lightning', method: 'keysend', recipients },
});

// The worker speaks: one structured line per run (start, end with counts and duration), per keysend that ends
// unknown or refused, per recipient parked, and when the wallet refuses our credentials. Read from a real worker
// process's output.
describe('worker log lines (e2e)', () => {
  let stack: Stack;
  let worker: ChildProcess | undefined;
  let output = '';
  const lines = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const start = (overrides: Record<string, string> = {}, healthStatus = 200) =>
    startWorkerProcess({ ...stack.config, ...overrides } as typeof stack.config, { logLevel: 'info', onOutput: (text) => (output += text), healthStatus });

  beforeAll(async () => {
    stack = await startStack({ MAX_ATTEMPTS: '1', ALBY_TIMEOUT_MS: '500', KEYSEND_BATCH_SIZE: '1' }, { worker: false });
  });
  afterAll(async () => {
    await killWorkerProcess(worker);
    await stack?.close();
  });

  it('logs a run from start to end, its unknown and refused keysends and the recipient it parks', async () => {
    worker = await start();
    await stack.postEvents([event('log-1', [node('Paid', paid, 1), node('Hangs', hangs, 1), node('Dead', dead, 1)])]);
    await stack.accumulated();
    await stack.sim.setRule(hangs, { hang: true });
    await stack.sim.setRule(dead, { fail: { code: 10, message: 'FAILURE_REASON_NO_ROUTE' } });
    const run = await stack.runPayout();
    const keysend = (address: string) => String(run.keysends.find((k: { recipient: { address: string } }) => k.recipient.address === address).id);
    const deadId = (await stack.recipient(dead)).body.id;
    await eventually(
      async () => lines().filter((l) => l.msg === 'payout run finished').length,
      (n) => n === 1,
      5_000,
    );

    const found = lines();
    expect(found).toContainEqual(expect.objectContaining({ level: 30, context: 'PayoutRunner', payoutId: run.id, msg: 'payout run started' }));
    expect(found).toContainEqual(
      expect.objectContaining({
        level: 30,
        payoutId: run.id,
        status: 'partial',
        keysends: 3,
        succeeded: 1,
        failed: 1,
        unknown: 1,
        ms: expect.any(Number),
        msg: 'payout run finished',
      }),
    );
    expect(found).toContainEqual(expect.objectContaining({ level: 40, paymentId: keysend(hangs), msg: expect.stringMatching(/^keysend outcome unknown: /) }));
    expect(found).toContainEqual(expect.objectContaining({ level: 40, paymentId: keysend(dead), code: '10', msg: 'keysend refused: FAILURE_REASON_NO_ROUTE' }));
    expect(found).toContainEqual(
      expect.objectContaining({
        level: 40,
        recipientId: deadId,
        app: 'test-app',
        msg: 'recipient parked after 1 consecutive failures: FAILURE_REASON_NO_ROUTE',
      }),
    );
  });

  it('logs the wallet refusing our credentials', async () => {
    await killWorkerProcess(worker);
    // Its health is degraded (503) from the start: the wallet refuses the token.
    worker = await start({ ALBY_ACCESS_TOKEN: 'a-wrong-token' }, 503);
    await stack.postEvents([event('log-2', [node('Paid', paid, 1)])]);
    await stack.accumulated();
    const run = await stack.runPayout();
    expect(run.status).toBe('failed');
    await eventually(
      async () => lines().filter((l) => l.payoutId === run.id && l.msg === 'payout run finished').length,
      (n) => n === 1,
      5_000,
    );
    expect(lines()).toContainEqual(expect.objectContaining({ level: 40, payoutId: run.id, msg: expect.stringMatching(/^the wallet refused the run: /) }));
    expect(output).not.toContain('a-wrong-token');
  });
});
