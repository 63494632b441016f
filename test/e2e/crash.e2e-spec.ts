import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { SIM_PAYEE_PUBKEY } from '@splitstream/lightning-sim';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import type { SimPayment } from '../support/alby-sim.js';
import { query } from '../support/database.js';
import { eventually } from '../support/http.js';
import { LN_DOMAIN, type Stack, startStack } from '../support/stack.js';
import { killWorkerProcess, startWorkerProcess } from '../support/worker-process.js';

const nodes = [0xc1, 0xc2, 0xc3, 0xc4].map((n, i) => ({ name: `R${i}`, type: 'node', address: pubkey(n), split: 1 }));
// Two node recipients, an address paid by keysend to its node, and one paid by LNURL-pay invoices.
const KEYSEND_ADDRESS_NODE = pubkey(0xc5);
const mixed = [
  nodes[0]!,
  nodes[1]!,
  { name: 'Kim', type: 'lnaddress', address: `kim@${LN_DOMAIN}`, split: 1 },
  { name: 'Lara', type: 'lnaddress', address: `lara@${LN_DOMAIN}`, split: 1 },
];

// A real worker process (the built entry point), killed with SIGKILL in the middle of a payout run.
describe('a worker killed in the middle of a payout run (e2e)', () => {
  let stack: Stack;
  let worker: ChildProcess | undefined;

  const startWorker = async () => {
    worker = await startWorkerProcess(stack.config, { logLevel: 'error' });
  };
  const keysendStatuses = async () =>
    (await query<{ status: string }>(stack.config.DATABASE_URL, 'SELECT status FROM payment ORDER BY id')).map((r) => r.status);

  // Who a payment paid: its node, or (for an invoice) the address the invoice was issued for.
  const payeeOf = async (payment: SimPayment) => {
    if (payment.kind === 'bolt11') return `${(await stack.sim.lnaddress.invoices()).find((i) => i.paymentHash === payment.paymentHash)!.user}@${LN_DOMAIN}`;
    return payment.destination === KEYSEND_ADDRESS_NODE ? `kim@${LN_DOMAIN}` : payment.destination;
  };

  beforeEach(async () => {
    // The worker process resolves Lightning addresses every second (its own job: runs pay only resolved ones).
    stack = await startStack({ KEYSEND_BATCH_SIZE: '1', LNADDRESS_RESOLVE_INTERVAL_SECONDS: '1' }, { worker: false });
    await stack.sim.lnaddress.setUser('kim', { keysend: { pubkey: KEYSEND_ADDRESS_NODE } });
  });
  afterEach(async () => {
    await killWorkerProcess(worker);
    await stack.close();
  });

  it.each([
    ['node recipients', nodes],
    ['node and Lightning-address recipients', mixed],
  ])('loses nothing and pays nothing twice after a restart (%s)', async (_what, recipients) => {
    await startWorker();
    await stack.postEvents(
      recipients.map((r, i) => ({
        id: `crash-${i}`,
        feedGuid: 'feed-k',
        itemGuid: `item-${i}`,
        position: 0,
        seconds: 60,
        satsPerMinute: 100,
        value: { type: 'lightning', method: 'keysend', recipients: [r] },
      })),
    );
    await stack.accumulated();
    await eventually(
      () => query<{ n: number }>(stack.config.DATABASE_URL, 'SELECT count(*)::int AS n FROM lnaddress_route'),
      ([row]) => row!.n === recipients.filter((r) => r.type === 'lnaddress').length,
      10_000,
    );
    for (const destination of [...nodes.map((r) => r.address), KEYSEND_ADDRESS_NODE, SIM_PAYEE_PUBKEY])
      await stack.sim.setRule(destination, { delayMs: 3_000 });

    const run = await stack.http.post('/v1/payouts/run', {});
    // Kill while the first request is inside the wallet (sending) and the rest are recorded but not sent.
    await eventually(keysendStatuses, (s) => s.includes('sending'), 15_000);
    // `sending` is committed just before the request leaves: give it time to reach the wallet (which holds it 3 s).
    await new Promise((resolve) => setTimeout(resolve, 500));
    worker!.kill('SIGKILL');
    await once(worker!, 'exit');
    expect(await keysendStatuses()).toEqual(['sending', 'pending', 'pending', 'pending']);
    // The wallet still finishes the payment whose answer nobody will read.
    await eventually(
      () => stack.sim.payments(),
      (p) => p.length === 1,
      8_000,
    );

    await startWorker();
    // At start the worker tells apart what may have gone out (unknown) from what never did (back to owed).
    expect(await keysendStatuses()).toEqual(['unknown', 'cancelled', 'cancelled', 'cancelled']);
    const interrupted = (await stack.http.get(`/v1/payouts/${run.body.id}`)).body;
    expect(interrupted.status).toBe('interrupted');
    expect(await stack.invariant()).toMatchObject({ ok: true, owedMsat: '300000', inFlightMsat: '100000', paidMsat: '0' });

    for (const destination of [...nodes.map((r) => r.address), KEYSEND_ADDRESS_NODE, SIM_PAYEE_PUBKEY]) await stack.sim.clearRule(destination);
    const next = await stack.runPayout();
    expect(next.totals).toMatchObject({ keysends: 3, succeeded: 3 });
    // Run statuses stay true: the killed run's job, handed back to the new worker, was not run again under its id
    // (its start and end unchanged, still interrupted), and no run is `skipped`.
    expect(next.id).not.toBe(run.body.id);
    expect((await stack.http.get(`/v1/payouts/${run.body.id}`)).body).toMatchObject({
      status: 'interrupted',
      startedAt: interrupted.startedAt,
      finishedAt: interrupted.finishedAt,
    });
    expect(await query(stack.config.DATABASE_URL, `SELECT id FROM payout WHERE status = 'skipped'`)).toEqual([]);

    // Every destination paid exactly once; the one whose outcome is unknown was not re-sent.
    const payments = await stack.sim.payments();
    const payees = await Promise.all(payments.map(payeeOf));
    expect(payees.sort()).toEqual(recipients.map((r) => r.address).sort());
    expect(payments.every((p) => p.amount === 100)).toBe(true);
    expect(await stack.invariant()).toMatchObject({ ok: true, owedMsat: '0', inFlightMsat: '100000', paidMsat: '300000', eventsMsat: '400000' });
    // For every recipient: paid + owed + in flight + parked = accrued.
    const perRecipient = await query<{ accrued: string; rest: string }>(
      stack.config.DATABASE_URL,
      `SELECT SUM(accrued_msat)::text AS accrued, SUM(paid_msat + owed_msat + in_flight_msat + parked_msat)::text AS rest FROM balance GROUP BY recipient_id`,
    );
    expect(perRecipient).toHaveLength(recipients.length);
    for (const row of perRecipient) expect(row.rest).toBe(row.accrued);
  });
});
