import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { eventually, listen, PROCESS_BOOT_MS, request } from '../support/http.js';
import { type Nwc, startNwc } from '../support/nwc-sim.js';
import { metricsUrlOf, type Stack, startStack } from '../support/stack.js';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { freePort } from '../support/outages.js';
import { createWorker } from '../../apps/worker/src/create-worker.js';
import { testConfig } from '../support/test-config.js';
import { killWorkerProcess, startWorkerProcess } from '../support/worker-process.js';
import { nwcUrl } from '@splitstream/config';

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
const event = (id: string, address: string, itemGuid: string, extra: object = {}) => ({
  id,
  feedGuid: 'feed-nwc',
  itemGuid,
  feedTitle: 'NWC Show',
  position: 0,
  seconds: 60,
  satsPerMinute: 100,
  value: { type: 'lightning', method: 'keysend', recipients: [{ name: `N-${itemGuid}`, type: 'node', address, split: 1, ...extra }] },
});

// The whole pipeline paying over Nostr Wallet Connect: a real relay over WebSocket and the development wallet.
describe('paying over Nostr Wallet Connect (e2e)', () => {
  let nwc: Nwc;
  let stack: Stack;
  const sql = (text: string, params: unknown[] = []) => query(stack.config.DATABASE_URL, text, params);
  // A keysend that failed, made to look as if its answer had been lost: unknown, its money in flight again, sent
  // `sentAgo` ago. Returns its id.
  const failedThenLost = async (address: string, id: string, sentAgo = '0 seconds') => {
    await stack.postEvents([event(id, address, id)]);
    await stack.accumulated();
    nwc.wallet.setRule(address, { fail: { code: 'PAYMENT_FAILED', message: 'no route' } });
    const paymentId = (await stack.runPayout()).keysends[0].id;
    nwc.wallet.clearRule(address);
    await sql(`UPDATE payment SET status = 'unknown', sent_at = now() - $2::interval WHERE id = $1`, [paymentId, sentAgo]);
    await sql(
      `UPDATE balance SET owed_msat = owed_msat - 100000, in_flight_msat = in_flight_msat + 100000 WHERE id = (SELECT balance_id FROM payment WHERE id = $1)`,
      [paymentId],
    );
    return paymentId as string;
  };
  const paymentsTo = (address: string) => nwc.wallet.transactions.filter((t) => t.state === 'settled' && t.metadata.pubkey === address);

  beforeAll(async () => {
    nwc = await startNwc();
    stack = await startStack({ ...nwc.overrides, KEYSEND_BATCH_SIZE: '2', RECONCILE_RESEND_AFTER_SECONDS: '60' });
  });
  afterAll(async () => {
    await stack.close();
    await nwc.close();
  });
  beforeEach(() => nwc.wallet.reset());

  it('pays with a preimage chosen and stored before sending, exact msat and the bLIP-10 and custom TLVs', async () => {
    const [a, b, c] = [pubkey(0xe01), pubkey(0xe02), pubkey(0xe03)];
    await stack.postEvents([event('n-1', a, 'i1', { customKey: '696969', customValue: 'w-1' }), event('n-2', b, 'i2'), event('n-3', c, 'i3')]);
    await stack.accumulated();
    const run = await stack.runPayout();
    expect(run).toMatchObject({ status: 'completed', totals: { keysends: 3, succeeded: 3 } });
    const rows = await sql('SELECT reference, payment_hash, preimage FROM payment ORDER BY id');
    for (const row of rows) expect(row.payment_hash).toBe(sha256(row.preimage));
    const [paid] = paymentsTo(a);
    expect(paid).toMatchObject({ amount: 100_000, payment_hash: rows.find((r) => paid!.payment_hash === r.payment_hash)!.payment_hash });
    const tlv = Object.fromEntries(paid!.metadata.tlv_records!.map((r) => [String(r.type), Buffer.from(r.value, 'hex').toString('utf8')]));
    expect(tlv['696969']).toBe('w-1');
    expect(JSON.parse(tlv['7629169']!)).toMatchObject({ action: 'stream', value_msat: 100_000, podcast: 'NWC Show', name: 'N-i1', episode_guid: 'i1' });
    // Chunks of two: multi_pay_keysend (get_info lists it) for the first, pay_keysend for the last one alone.
    expect(nwc.wallet.requests.map((r) => r.method).filter((m) => m.endsWith('pay_keysend'))).toEqual(['multi_pay_keysend', 'pay_keysend']);
    expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '0', paidMsat: '300000' });
  });

  it('pays a boost at once over NWC: every share with the boost record, one boost_uuid, a preimage chosen before sending', async () => {
    const [host, guest] = [pubkey(0xe21), pubkey(0xe22)];
    const posted = await stack.http.post('/v1/boosts', {
      id: 'nwc-boost-1',
      feedGuid: 'feed-nwc',
      itemGuid: 'i-boost',
      position: 12,
      amountSats: 500,
      message: 'boosted over NWC ⚡',
      senderName: 'alice',
      value: {
        type: 'lightning',
        method: 'keysend',
        recipients: [
          { name: 'Host', type: 'node', address: host, split: 80 },
          { name: 'Guest', type: 'node', address: guest, split: 20 },
        ],
      },
    });
    expect(posted.status).toBe(202);
    const { body: paid } = await eventually(
      () => stack.http.get('/v1/boosts/nwc-boost-1'),
      (r) => r.body.status === 'paid',
      15_000,
    );
    const records = [host, guest].map((address) => {
      const [payment] = paymentsTo(address);
      const tlv = Object.fromEntries(payment!.metadata.tlv_records!.map((r) => [String(r.type), Buffer.from(r.value, 'hex').toString('utf8')]));
      return { amount: payment!.amount, record: JSON.parse(tlv['7629169']!) };
    });
    expect(records.map((r) => r.amount)).toEqual([400_000, 100_000]);
    for (const { amount, record } of records) {
      expect(record).toMatchObject({
        action: 'boost',
        message: 'boosted over NWC ⚡',
        sender_name: 'alice',
        value_msat: amount,
        value_msat_total: 500_000,
        boost_uuid: paid.boostUuid,
      });
    }
    const rows = await sql(
      `SELECT p.payment_hash, p.preimage FROM payment p JOIN balance b ON b.id = p.balance_id JOIN boost bo ON bo.id = b.boost_id WHERE bo.boost_id = 'nwc-boost-1'`,
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.payment_hash).toBe(sha256(row.preimage));
  });

  it('a payment made but never answered is unknown, then reconciled to paid from lookup_invoice: exactly one payment', async () => {
    const hangs = pubkey(0xe04);
    await stack.postEvents([event('n-4', hangs, 'i4')]);
    await stack.accumulated();
    nwc.wallet.setRule(hangs, { hang: true });
    const run = await stack.runPayout();
    expect(run).toMatchObject({ status: 'partial', totals: { unknown: 1 } });
    const report = await stack.http.post('/v1/keysends/reconcile', {});
    expect(report.body).toMatchObject({ checked: 1, paid: 1, resent: 0, stillUnknown: 0 });
    const [keysend] = (await stack.http.get(`/v1/payouts/${run.id}`)).body.keysends;
    expect(keysend).toMatchObject({ status: 'succeeded', resolvedBy: 'reconciliation', paymentHash: paymentsTo(hangs)[0]!.payment_hash });
    expect(paymentsTo(hangs)).toHaveLength(1);
    expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '0' });
  });

  it('an unknown keysend the wallet never saw is sent again after the grace period with the same preimage, and paid once', async () => {
    const lost = pubkey(0xe05);
    // As if the request had been lost on its way, two minutes ago: the wallet has nothing of it.
    const id = await failedThenLost(lost, 'n-5', '2 minutes');
    nwc.wallet.transactions.splice(
      nwc.wallet.transactions.findIndex((t) => t.metadata.pubkey === lost),
      1,
    ); // the wallet never saw it
    const [{ preimage }] = await sql('SELECT preimage FROM payment WHERE id = $1', [id]);
    const report = await stack.http.post('/v1/keysends/reconcile', {});
    expect(report.body).toMatchObject({ checked: 1, resent: 1, stillUnknown: 0 });
    expect(paymentsTo(lost).map((t) => t.preimage)).toEqual([preimage]);
    expect((await sql('SELECT status FROM payment WHERE id = $1', [id]))[0]).toEqual({ status: 'succeeded' });
    expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '0' });
  });

  it('an unknown keysend the wallet reports failed goes back to owed at once', async () => {
    const failing = pubkey(0xe06);
    // As if its answer had been lost: the wallet has it on record as failed.
    const id = await failedThenLost(failing, 'n-6');
    expect(nwc.wallet.transactions.find((t) => t.metadata.pubkey === failing)).toMatchObject({ state: 'failed' });
    expect((await stack.http.post('/v1/keysends/reconcile', {})).body).toMatchObject({ checked: 1, returnedToOwed: 1, resent: 0 });
    expect((await sql('SELECT status, error_message FROM payment WHERE id = $1', [id]))[0]).toEqual({
      status: 'failed',
      error_message: 'the wallet reports the payment failed',
    });
    expect((await stack.recipient(failing)).body).toMatchObject({ owedMsat: '100000', inFlightMsat: '0' });
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it('the relay restarted in the middle of a run: no double payment, nothing lost', async () => {
    const recipients = [0xe10, 0xe11, 0xe12, 0xe13, 0xe14, 0xe15].map(pubkey);
    await stack.postEvents(recipients.map((r, i) => event(`n-r${i}`, r, `r${i}`)));
    await stack.accumulated();
    for (const r of recipients) nwc.wallet.setRule(r, { delayMs: 400 });
    const started = await stack.http.post('/v1/payouts/run', {});
    await eventually(
      () => sql(`SELECT 1 FROM payment WHERE payout_id = $1 AND status = 'sending'`, [started.body.id]),
      (rows) => rows.length > 0,
      10_000,
    );
    await nwc.restartRelay(1_500);
    await eventually(
      () => stack.http.get(`/v1/payouts/${started.body.id}`),
      (r) => ['completed', 'partial', 'failed'].includes(r.body.status),
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the wallet service reconnects
    for (const r of recipients) nwc.wallet.clearRule(r);
    await stack.http.post('/v1/keysends/reconcile', {});
    // What the restart cut off: cancelled back to owed and paid by the next run; what was unanswered: reconciled.
    await sql(`UPDATE payment SET sent_at = now() - interval '2 minutes' WHERE status = 'unknown'`);
    await stack.http.post('/v1/keysends/reconcile', {});
    await stack.runPayout();
    for (const r of recipients) {
      expect([r, paymentsTo(r).length]).toEqual([r, 1]);
      expect((await stack.recipient(r)).body).toMatchObject({ paidMsat: '100000', owedMsat: '0', inFlightMsat: '0' });
    }
    expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '0' });
  });
});

describe('wallet health on the NWC rail (e2e)', () => {
  let nwc: Nwc;
  beforeAll(async () => {
    nwc = await startNwc();
  });
  afterAll(() => nwc.close());

  it('shows the wallet reachable with its balance (also as a gauge), and is degraded (503) when the wallet refuses our credentials', async () => {
    const good = await createWorker(testConfig({ ...nwc.overrides, WORKER_METRICS_PORT: String(await freePort()) }));
    const stranger = nwcUrl(nwc.wallet.walletPubkey, [nwc.relay.url], '11'.repeat(32));
    const refused = await createWorker(testConfig({ ...nwc.overrides, NWC_URL: stranger }));
    try {
      const goodUrl = await listen(good);
      // The wallet's details (its balance) are for admin keys only.
      const { key } = await good.get(ApiKeysService, { strict: false }).create('nwc-admin', [Scope.Admin]);
      const admin = { headers: { authorization: `Bearer ${key}` } };
      expect((await request(goodUrl, '/health')).body).toEqual({ status: 'ok' });
      const ok = await eventually(
        () => request(goodUrl, '/health', admin),
        (r) => r.body?.details?.wallet?.reachable === true,
        10_000,
      );
      expect(ok.status).toBe(200);
      expect(ok.body.details.wallet).toMatchObject({ status: 'up', reachable: true, balanceMsat: String(nwc.wallet.settings.balanceMsat) });
      const metrics = await (await fetch(`${metricsUrlOf(good)}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`splitstream_wallet_balance_msat ${nwc.wallet.settings.balanceMsat}\\b`));

      const down = await request(await listen(refused), '/health', admin);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'degraded', error: 'service_unavailable', message: 'the wallet refuses our credentials: nothing can be paid' });
      expect(Object.keys(down.body.down)).toEqual(['wallet']);
      expect(JSON.stringify(down.body)).not.toContain('11'.repeat(32));
    } finally {
      await good.close();
      await refused.close();
    }
  });
});

// A real worker process on the NWC rail, SIGKILLed in the middle of a run: after a restart and reconciliation,
// nothing is unknown and nobody was paid twice; the connection secret never appears in its output.
describe('a worker killed mid-run on the NWC rail (e2e)', () => {
  let nwc: Nwc;
  let stack: Stack;
  let worker: ChildProcess | undefined;
  let output = '';

  const startWorker = async () => {
    worker = await startWorkerProcess(stack.config, { logLevel: 'debug', onOutput: (text: string) => (output += text) });
  };

  beforeAll(async () => {
    nwc = await startNwc();
    stack = await startStack({ ...nwc.overrides, KEYSEND_BATCH_SIZE: '1', RECONCILE_RESEND_AFTER_SECONDS: '60' }, { worker: false });
  });
  afterAll(async () => {
    await killWorkerProcess(worker);
    await stack.close();
    await nwc.close();
  });

  it(
    'ends with 0 msat unknown after reconciliation and every recipient paid once',
    async () => {
      const recipients = [0xf01, 0xf02, 0xf03, 0xf04].map(pubkey);
      await startWorker();
      await stack.postEvents(recipients.map((r, i) => event(`k-${i}`, r, `k${i}`)));
      await stack.accumulated();
      for (const r of recipients) nwc.wallet.setRule(r, { delayMs: 2_000 });
      await stack.http.post('/v1/payouts/run', {});
      const statuses = () => query<{ status: string }>(stack.config.DATABASE_URL, 'SELECT status FROM payment ORDER BY id');
      await eventually(statuses, (rows) => rows.some((r) => r.status === 'sending'), 15_000);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the request reaches the wallet
      worker!.kill('SIGKILL');
      await once(worker!, 'exit');
      await eventually(
        async () => nwc.wallet.transactions.filter((t) => t.state === 'settled').length,
        (n) => n === 1,
        8_000,
      ); // the wallet still pays it

      await startWorker();
      expect((await statuses()).map((r) => r.status)).toEqual(['unknown', 'cancelled', 'cancelled', 'cancelled']);
      for (const r of recipients) nwc.wallet.clearRule(r);
      expect((await stack.http.post('/v1/keysends/reconcile', {})).body).toMatchObject({ paid: 1, stillUnknown: 0 });
      expect((await stack.runPayout()).totals).toMatchObject({ keysends: 3, succeeded: 3 });

      expect((await stack.http.get('/v1/summary')).body.unknown).toEqual({ keysends: 0, sats: 0 });
      for (const r of recipients) expect(nwc.wallet.transactions.filter((t) => t.state === 'settled' && t.metadata.pubkey === r)).toHaveLength(1);
      expect(await stack.invariant()).toMatchObject({ ok: true, inFlightMsat: '0', owedMsat: '0', paidMsat: '400000' });
      expect(output).not.toContain(nwc.clientSecret);
    },
    3 * PROCESS_BOOT_MS,
  );
});
