import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { eventually } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';
import { toEnvironment } from '@splitstream/config';

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
    await sql(`UPDATE keysend SET status = 'unknown', error_code = NULL WHERE id = ANY($1::bigint[])`, [failed]);
    await sql(`UPDATE balance SET owed_msat = owed_msat - 100000, in_flight_msat = in_flight_msat + 100000 WHERE id IN (SELECT balance_id FROM keysend WHERE id = ANY($1::bigint[]))`, [failed]);
    const [oldId, newId] = failed;
    await sql(`UPDATE keysend SET sent_at = now() - interval '2 hours' WHERE id = $1`, [oldId]);
    expect(await stack.invariant()).toMatchObject({ ok: true });

    const report = await stack.http.post('/v1/keysends/reconcile', {});
    expect(report).toMatchObject({ status: 200, body: { checked: 3, paid: 1, returnedToOwed: 1, resent: 0, stillUnknown: 1 } });
    expect((await stack.http.get(`/v1/payouts/${(await sql('SELECT payout_id FROM keysend WHERE id = $1', [paidButLost]))[0]!.payout_id}`)).body.keysends[0]).toMatchObject({
      status: 'succeeded',
      paymentHash: payment!.paymentHash,
      feeSats: payment!.fee,
      resolvedBy: 'reconciliation',
    });
    const [old] = await sql('SELECT status, error_message FROM keysend WHERE id = $1', [oldId]);
    expect(old).toMatchObject({ status: 'failed', error_message: expect.stringContaining("not among the wallet's settled payments") });
    expect((await sql('SELECT status FROM keysend WHERE id = $1', [newId]))[0]).toEqual({ status: 'unknown' });
    expect((await stack.recipient(neverOld)).body).toMatchObject({ owedMsat: '100000', inFlightMsat: '0' });
    expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '100000' });

    // Nothing was paid twice: the lost answer's payment is the only one to its destination.
    expect((await stack.sim.payments()).filter((p) => p.destination === pubkey(0xc01))).toHaveLength(1);
  });

  it('the CLI reconciles too, and reports what it did', async () => {
    const id = await unknownKeysend(pubkey(0xc04), 'rec-4');
    const env = toEnvironment(stack.config);
    // Asynchronously: the simulator it asks runs in this process.
    const result = await promisify(execFile)('node', ['dist/apps/cli/src/main.js', 'keysends', 'reconcile'], { env: { ...process.env, ...env } });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ checked: 2, paid: 1, returnedToOwed: 0, resent: 0, stillUnknown: 1 }); // the recent absent one from above stays
    expect((await sql('SELECT status FROM keysend WHERE id = $1', [id]))[0]).toEqual({ status: 'succeeded' });
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
    const done = await eventually(() => stack.http.get(`/v1/payouts/${started.body.id}`), (r) => r.body.keysends?.[0]?.status === 'succeeded', 20_000);
    expect(done.body.keysends[0]).toMatchObject({ resolvedBy: 'reconciliation' });
    expect((await stack.sim.payments()).filter((p) => p.destination === address)).toHaveLength(1);
    expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '0', paidMsat: '100000' });
  });
});
