import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { eventually, request } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';
import { toEnvironment } from '@splitstream/config';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { RECONCILE } from '@splitstream/payouts';
import { JobQueue } from '@splitstream/queue';

const event = (id: string, address: string, itemGuid: string) => ({
  id,
  feedGuid: 'feed-rec',
  itemGuid,
  position: 0,
  seconds: 60,
  satsPerMinute: 100,
  value: { type: 'lightning', method: 'keysend', recipients: [{ name: 'R', type: 'node', address, split: 1 }] },
});

// Unknown keysends settled from the wallet's own records (Alby/LNDhub rail: the outgoing list, by memo), by the
// API, the CLI and the worker's schedule.
describe('reconciliation of unknown keysends (e2e)', () => {
  let stack: Stack;
  const sql = (text: string, params: unknown[] = []) => query(stack.config.DATABASE_URL, text, params);
  const unknownKeysend = async (address: string, id: string) => {
    await stack.postEvents([event(id, address, `item-${id}`)]);
    await stack.accumulated();
    await stack.sim.setRule(address, { respondWith: { status: 502, body: '<html>Bad Gateway</html>' } });
    const run = await stack.runPayout();
    await stack.sim.clearRule(address);
    const keysend = run.keysends.find((k: { recipient: { address: string } }) => k.recipient.address === address);
    expect(keysend.status).toBe('unknown');
    return keysend.id as string;
  };

  beforeAll(async () => {
    stack = await startStack({ RECONCILE_ABSENT_AFTER_SECONDS: '3600', INVOICE_MAX_CLTV_EXPIRY_BLOCKS: '5' }); // keysends only: no invoice is checked
  });
  afterAll(() => stack.close());

  it('settles a keysend the wallet paid (its hash, preimage and fee), returns one absent too long to owed, and keeps a recent absent one unknown', async () => {
    const paidButLost = await unknownKeysend(pubkey(0xc01), 'rec-1');
    const [payment] = await stack.sim.payments();
    // Two keysends the wallet never paid: one sent two hours ago, one just now.
    const [neverOld, neverNew] = [pubkey(0xc02), pubkey(0xc03)];
    await stack.postEvents([event('rec-2', neverOld, 'item-2'), event('rec-3', neverNew, 'item-3')]);
    await stack.accumulated();
    await stack.sim.setRule(neverOld, { fail: { code: 10, message: 'no_route' } });
    await stack.sim.setRule(neverNew, { fail: { code: 10, message: 'no_route' } });
    const keysends: { id: string; recipient: { address: string } }[] = (await stack.runPayout()).keysends;
    const idOf = (address: string) => keysends.find((k) => k.recipient.address === address)!.id;
    const failed = [idOf(neverOld), idOf(neverNew)];
    // As if those answers had been lost: unknown, and the wallet has no settled payment for them.
    await sql(`UPDATE payment SET status = 'unknown', error_code = NULL WHERE id = ANY($1::bigint[])`, [failed]);
    await sql(
      `UPDATE balance SET owed_msat = owed_msat - 100000, in_flight_msat = in_flight_msat + 100000 WHERE id IN (SELECT balance_id FROM payment WHERE id = ANY($1::bigint[]))`,
      [failed],
    );
    const [oldId, newId] = failed;
    await sql(`UPDATE payment SET sent_at = now() - interval '2 hours' WHERE id = $1`, [oldId]);
    expect(await stack.invariant()).toMatchObject({ ok: true });

    const report = await stack.http.post('/v1/payments/reconcile', {}); // enqueued by the api, run by the worker
    expect(report).toMatchObject({ status: 200, body: { checked: 3, paid: 1, returnedToOwed: 1, resent: 0, stillUnknown: 1 } });
    expect(
      (await stack.http.get(`/v1/payouts/${(await sql('SELECT payout_id FROM payment WHERE id = $1', [paidButLost]))[0]!.payout_id}`)).body.keysends[0],
    ).toMatchObject({
      status: 'succeeded',
      paymentHash: payment!.paymentHash,
      feeSats: payment!.fee,
      resolvedBy: 'reconciliation',
    });
    const [old] = await sql('SELECT status, error_message FROM payment WHERE id = $1', [oldId]);
    expect(old).toMatchObject({ status: 'failed', error_message: expect.stringContaining("not among the wallet's settled payments") });
    expect((await sql('SELECT status FROM payment WHERE id = $1', [newId]))[0]).toEqual({ status: 'unknown' });
    expect((await stack.recipient(neverOld)).body).toMatchObject({ owedMsat: '100000', inFlightMsat: '0' });
    expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '100000' });

    // Nothing was paid twice: the lost answer's payment is the only one to its destination.
    expect((await stack.sim.payments()).filter((p) => p.destination === pubkey(0xc01))).toHaveLength(1);
  });

  it('the CLI reconciles too, and reports what it did', async () => {
    const id = await unknownKeysend(pubkey(0xc04), 'rec-4');
    const env = toEnvironment(stack.config);
    // Asynchronously: the simulator it asks runs in this process.
    const result = await promisify(execFile)('node', ['dist/apps/cli/src/main.js', 'payments', 'reconcile'], { env: { ...process.env, ...env } });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ checked: 2, paid: 1, returnedToOwed: 0, resent: 0, stillUnknown: 1 }); // the recent absent one from above stays
    expect((await sql('SELECT status FROM payment WHERE id = $1', [id]))[0]).toEqual({ status: 'succeeded' });
  });
});

describe('scheduled reconciliation (e2e)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ RECONCILE_INTERVAL_SECONDS: '1' });
  });
  afterAll(() => stack.close());

  it('settles an unknown keysend by itself, with exactly one payment at the wallet', async () => {
    const address = pubkey(0xc05);
    await stack.postEvents([event('rec-5', address, 'item-5')]);
    await stack.accumulated();
    await stack.sim.setRule(address, { respondWith: { status: 502, body: 'Bad Gateway' } });
    const started = await stack.http.post('/v1/payouts/run', {});
    const done = await eventually(
      () => stack.http.get(`/v1/payouts/${started.body.id}`),
      (r) => r.body.keysends?.[0]?.status === 'succeeded',
      20_000,
    );
    expect(done.body.keysends[0]).toMatchObject({ resolvedBy: 'reconciliation' });
    expect((await stack.sim.payments()).filter((p) => p.destination === address)).toHaveLength(1);
    expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '0', paidMsat: '100000' });
  });
});

// The api only enqueues: the worker reconciles, for the caller's app only unless the key is an admin's.
describe('reconciliation requested through the api, scoped per app (e2e)', () => {
  let stack: Stack;
  const keys: Record<string, string> = {};
  const as = (app: string) => ({
    post: (path: string, body: unknown) =>
      request(stack.baseUrl, path, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys[app]}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    get: (path: string) => request(stack.baseUrl, path, { headers: { authorization: `Bearer ${keys[app]}` } }),
  });
  // An unknown payment of the app's (the wallet paid it, its answer was lost).
  const unknownPayment = async (app: string, address: string, id: string) => {
    const posted = await as(app).post('/v1/events', { events: [event(id, address, `item-${id}`)] });
    expect(posted.status).toBe(202);
    await stack.accumulated();
    await stack.sim.setRule(address, { respondWith: { status: 502, body: '<html>Bad Gateway</html>' } });
    const run = await stack.runPayout();
    await stack.sim.clearRule(address);
    const payment = run.keysends.find((k: { recipient: { address: string } }) => k.recipient.address === address);
    expect(payment.status).toBe('unknown');
    return payment.id as string;
  };
  const statusOf = async (id: string) => (await stack.http.get(`/v1/payments/${id}`)).body.status;

  beforeAll(async () => {
    stack = await startStack();
    const apiKeys = stack.api.get(ApiKeysService);
    for (const app of ['app-a', 'app-b']) keys[app] = (await apiKeys.create(app, [Scope.EventsWrite, Scope.PayoutsRead, Scope.PayoutsWrite])).key;
  });
  afterAll(() => stack.close());

  it("an app's key settles only its app's unknown payments; an admin key settles every app's", async () => {
    const a1 = await unknownPayment('app-a', pubkey(0xd01), 'scope-a1');
    const b1 = await unknownPayment('app-b', pubkey(0xd02), 'scope-b1');

    expect(await as('app-a').post('/v1/payments/reconcile', {})).toMatchObject({ status: 200, body: { checked: 1, paid: 1, stillUnknown: 0 } });
    expect(await statusOf(a1)).toBe('succeeded');
    expect(await statusOf(b1)).toBe('unknown');

    const a2 = await unknownPayment('app-a', pubkey(0xd03), 'scope-a2');
    expect(await stack.http.post('/v1/payments/reconcile', {})).toMatchObject({ status: 200, body: { checked: 2, paid: 2, stillUnknown: 0 } }); // the stack's key is an admin's
    expect([await statusOf(a2), await statusOf(b1)]).toEqual(['succeeded', 'succeeded']);
    expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '0' });
  });

  it("POST /v1/payments/:id/check looks one payment up: 404 for another app's, 409 once it is not unknown", async () => {
    const a = await unknownPayment('app-a', pubkey(0xd04), 'check-a');
    const b = await unknownPayment('app-b', pubkey(0xd05), 'check-b');
    expect(await as('app-b').post(`/v1/payments/${a}/check`, {})).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await as('app-a').post('/v1/payments/999999/check', {})).toMatchObject({ status: 404 });
    expect(await statusOf(a)).toBe('unknown');

    const checked = await as('app-a').post(`/v1/keysends/${a}/check`, {}); // the alias too
    expect(checked).toMatchObject({ status: 200, body: { id: a, status: 'succeeded', resolvedBy: 'reconciliation', report: { checked: 1, paid: 1 } } });
    expect(await statusOf(b)).toBe('unknown'); // only the payment asked for
    expect(await as('app-a').post(`/v1/payments/${a}/check`, {})).toMatchObject({ status: 409, body: { error: 'conflict' } });
    expect(await as('app-b').post(`/v1/payments/${b}/check`, {})).toMatchObject({ status: 200, body: { id: b, status: 'succeeded' } });
  });
});

// Without a worker nothing reconciles: the api answers 202 with the queued job once its wait is over, and a
// worker that starts later runs it.
describe('reconciliation queued while no worker runs (e2e)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
  });
  afterAll(() => stack.close());

  it('answers 202 { status: queued, jobId } after its wait; requests for the same scope join one queued job', async () => {
    const answers = await Promise.all([1, 2, 3].map(() => stack.http.post('/v1/payments/reconcile', {})));
    for (const res of answers) {
      expect(res).toMatchObject({ status: 202, body: { status: 'queued', jobId: expect.stringMatching(/^reconcile-request-[0-9a-f-]{36}$/) } });
    }
    expect(new Set(answers.map((res) => res.body.jobId)).size).toBe(1);
    expect(await stack.api.get(JobQueue).queue(RECONCILE.queue).getWaitingCount()).toBe(1);
  }, 40_000);
});
