import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { OFF_CURVE_PUBKEY, pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { request } from '../support/http.js';
import { ROUTES } from '../support/routes.js';
import { type Stack, startStack } from '../support/stack.js';

const node = (name: string, address: string, split: number, extra: object = {}) => ({ name, type: 'node', address, split, ...extra });
const event = (id: string, recipients: object[], extra: object = {}) => ({
  id,
  feedGuid: 'feed-e',
  itemGuid: 'item-e',
  feedTitle: 'Engine Show',
  itemTitle: 'Episode E',
  position: 30,
  seconds: 60,
  satsPerMinute: 100,
  value: { type: 'lightning', method: 'keysend', recipients },
  ...extra,
});

// The payout engine's failure model over real HTTP, PostgreSQL, Redis and the Alby simulator: nothing one
// event, recipient or wallet answer does stops anyone else's money.
describe('payout engine: one bad thing never blocks the rest (e2e)', () => {
  let stack: Stack;
  const sql = <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => query<T>(stack.config.DATABASE_URL, text, params);
  const expectBooksBalance = async () => {
    expect(await stack.invariant()).toMatchObject({ ok: true, problems: [] });
    const broken = await sql(`SELECT recipient_id FROM balance GROUP BY recipient_id
      HAVING SUM(accrued_msat) <> SUM(owed_msat) + SUM(in_flight_msat) + SUM(parked_msat) + SUM(paid_msat)`);
    expect(broken).toEqual([]);
  };

  beforeAll(async () => {
    stack = await startStack({
      RETRY_BASE_SECONDS: '1',
      RETRY_MAX_SECONDS: '1',
      MAX_ATTEMPTS: '2',
      KEYSEND_BATCH_SIZE: '4',
      PAYOUT_HEARTBEAT_TIMEOUT_SECONDS: '15',
    });
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    await stack.sim.reset();
    await stack.sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000 });
  });

  it('refuses at ingestion an event whose bLIP-10 record could never fit, naming the field', async () => {
    const res = await stack.http.post('/v1/events', {
      events: [event('poison-1', [node('Host', pubkey(0x501), 1)], { feedGuid: '\u0001'.repeat(200), itemGuid: 'x'.repeat(256) })],
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'events_rejected', issues: [{ index: 0, code: 'invalid_request', path: 'events[0].feedGuid' }] });
    expect(res.body.issues[0].message).toMatch(/1024-byte bLIP-10 record/);
    expect((await sql('SELECT count(*)::int AS n FROM listening_event'))[0]).toEqual({ n: 0 });
  });

  it('pays everyone else when one balance cannot be built, and sets aside an event that cannot be split (stored before the checks)', async () => {
    const good = pubkey(0x502);
    const poisoned = pubkey(0x503);
    await stack.postEvents([event('ok-1', [node('Good', good, 1)])]);
    // Stored directly, as events accepted before ingestion checked them would have been (in the stored form).
    const stored = (id: string, recipients: object[], extra: object = {}) => {
      const e = event(id, recipients, extra);
      return { ...e, value: { ...e.value, timeSplits: [], recipients: recipients.map((r) => ({ fee: false, ...r })) } };
    };
    const poison = stored('poison-2', [node('Poisoned', poisoned, 1)], { feedGuid: '\u0001'.repeat(200), itemGuid: 'y'.repeat(256) });
    const unsplittable = stored('poison-3', []);
    for (const payload of [poison, unsplittable]) {
      await sql(
        `INSERT INTO listening_event (app_id, event_id, payload, amount_msat, received_at) VALUES ('test-app', $1, $2, 100000, now() - interval '1 hour')`,
        [payload.id, payload],
      );
    }
    const { WorkerSchedule } = await import('../../apps/worker/src/worker-schedule.service.js');
    await stack.worker!.get(WorkerSchedule).sweep(0);
    const summary = await stack.accumulated();
    expect(summary.body.events).toEqual({ accepted: 3, awaitingAccumulation: 0, setAside: 1 });
    const [aside] = await sql<{ apply_error: string }>(`SELECT apply_error FROM listening_event WHERE event_id = 'poison-3'`);
    expect(aside!.apply_error).toMatch(/^cannot be split/);

    const run = await stack.runPayout();
    expect(run.status).toBe('completed');
    expect(run.totals).toMatchObject({ keysends: 1, succeeded: 1 });
    expect((await stack.sim.payments()).map((p) => p.destination)).toEqual([good]);
    const stuck = await stack.recipient(poisoned);
    expect(stuck.body).toMatchObject({ state: 'backing_off', owedMsat: '100000', lastErrorCode: 'record_unbuildable' });
    expect(stuck.body.lastErrorMessage).toMatch(/cannot fit in 1024 bytes/);
    await expectBooksBalance();
  });

  it('finds the recipient a wallet refuses for the whole request, pays everyone else in the same run, then parks it', async () => {
    const refused = pubkey(0x600);
    const others = [0x601, 0x602, 0x603, 0x604, 0x605].map(pubkey);
    await stack.sim.setRule(refused, { refuse: { code: 2, message: 'invalid destination pubkey' } });
    await stack.postEvents([event('r-1', [node('Refused', refused, 1), ...others.map((a, i) => node(`O${i}`, a, 1))], { itemGuid: 'item-r' })]);
    await stack.accumulated();

    const first = await stack.runPayout();
    expect(first.status).toBe('partial');
    expect(first.totals).toMatchObject({ keysends: 6, succeeded: 5, failed: 1, cancelled: 0, unknown: 0 });
    expect((await stack.sim.payments()).map((p) => p.destination).sort()).toEqual([...others].sort());
    const failed = first.keysends.find((k: { recipient: { address: string } }) => k.recipient.address === refused);
    expect(failed).toMatchObject({ status: 'failed', lastErrorCode: '2', lastErrorMessage: 'invalid destination pubkey', attempts: 1 });
    expect((await stack.recipient(refused)).body).toMatchObject({ state: 'backing_off', consecutiveFailures: 1 });

    // Backing off, it is not sent again until its time; then it fails its last attempt and is parked.
    expect((await stack.runPayout()).totals.keysends).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await stack.runPayout();
    expect(second.totals).toMatchObject({ keysends: 1, failed: 1 });
    const parked = (await stack.recipient(refused)).body;
    expect(parked).toMatchObject({
      state: 'parked',
      parked: true,
      consecutiveFailures: 2,
      lastErrorCode: '2',
      lastErrorMessage: 'invalid destination pubkey',
      owedMsat: '0',
      inFlightMsat: '0',
      parkedMsat: '16667', // its share of 100 000 msat among six (the first listed takes a leftover msat)
    });
    await expectBooksBalance();
    const metrics = await (await fetch(stack.metricsUrl)).text();
    // This one, and the unbuildable one of the test above (it failed its last attempt in these runs): 16 667 + 100 000.
    expect(metrics).toMatch(/^splitstream_parked_recipients 2$/m);
    expect(metrics).toMatch(/^splitstream_parked_msat 116667$/m);
    // Parked: still accrues (into parked), never sent, until unparked.
    await stack.postEvents([event('r-2', [node('Refused', refused, 1)], { itemGuid: 'item-r' })]);
    await stack.accumulated();
    expect((await stack.runPayout()).totals.keysends).toBe(0);
    expect(BigInt((await stack.recipient(refused)).body.parkedMsat)).toBe(BigInt(parked.parkedMsat) + 100_000n);
    expect((await stack.sim.attempts()).filter((a) => a.destination === refused)).toEqual([]);

    await stack.sim.clearRule(refused);
    const unparked = await stack.http.post('/v1/recipients/unpark', { address: refused });
    expect(unparked.body).toMatchObject({ state: 'active', parkedMsat: '0', owedMsat: String(BigInt(parked.parkedMsat) + 100_000n) });
    expect((await stack.runPayout()).totals).toMatchObject({ keysends: 1, succeeded: 1 });
    await expectBooksBalance();
  });

  it('stops a run the wallet refuses as a whole (not enough balance) without blaming any recipient, and ends it failed with the reason', async () => {
    const a = pubkey(0x700);
    await stack.postEvents([event('w-1', [node('A', a, 1)], { itemGuid: 'item-w' })]);
    await stack.accumulated();
    await stack.sim.configure({ balanceSats: 0 });
    const run = await stack.runPayout();
    expect(run).toMatchObject({ status: 'failed', totals: { keysends: 1, cancelled: 1, failed: 0 } });
    expect(run.note).toMatch(/not enough balance/);
    expect((await stack.recipient(a)).body).toMatchObject({ state: 'active', consecutiveFailures: 0, owedMsat: '100000' });
    await stack.sim.configure({ balanceSats: 100_000_000 });
    expect((await stack.runPayout()).status).toBe('completed');
    await expectBooksBalance();
  });

  it('takes over a run whose worker stopped beating, ends it interrupted, and runs the new one', async () => {
    await stack.postEvents([event('s-1', [node('S', pubkey(0x800), 1)], { itemGuid: 'item-s' })]);
    await stack.accumulated();
    // A hung worker: it holds the payout lock on its own session and its run's heartbeat is a minute old.
    const hung = new pg.Client({ connectionString: stack.config.DATABASE_URL });
    hung.on('error', () => undefined);
    await hung.connect();
    await hung.query('SELECT pg_advisory_lock(7629169)');
    const [stale] = await sql<{ id: string }>(
      `INSERT INTO payout (trigger, status, started_at, heartbeat_at) VALUES ('manual', 'running', now() - interval '2 minutes', now() - interval '1 minute') RETURNING id`,
    );
    try {
      const run = await stack.runPayout();
      expect(run).toMatchObject({ status: 'completed', totals: { keysends: 1, succeeded: 1 } });
      expect((await stack.http.get(`/v1/payouts/${stale!.id}`)).body).toMatchObject({ status: 'interrupted' });
      await expect(hung.query('SELECT 1')).rejects.toThrow();
    } finally {
      await hung.end().catch(() => undefined);
    }
  });

  it('does not take over a run that is still beating: asking for a run answers that run (200), and none is started', async () => {
    const live = new pg.Client({ connectionString: stack.config.DATABASE_URL });
    await live.connect();
    await live.query('SELECT pg_advisory_lock(7629169)');
    const [running] = await sql<{ id: string }>(
      `INSERT INTO payout (trigger, status, started_at, heartbeat_at) VALUES ('manual', 'running', now(), now()) RETURNING id`,
    );
    try {
      const [before] = await sql<{ n: string }>(`SELECT count(*) AS n FROM payout`);
      const asked = await stack.http.post('/v1/payouts/run', {});
      expect(asked).toMatchObject({ status: 200, body: { id: running!.id, status: 'running', started: false } });
      expect(asked.body.message).toMatch(/already running/);
      expect(await sql(`SELECT count(*) AS n FROM payout`)).toEqual([before]);
      await expect(live.query('SELECT 1')).resolves.toBeDefined();
    } finally {
      await live.end();
      await sql(`UPDATE payout SET status = 'interrupted' WHERE id = $1`, [running!.id]);
    }
  });

  it('refuses NUL and lone surrogates in every string of every route with the standard validation error', async () => {
    const auth = { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' };
    for (const route of ROUTES) {
      const [path, search = ''] = route.path.split('?');
      const inPath = `${path}${path!.endsWith('/v1/events') || path!.endsWith('/run') || path!.endsWith('/unpark') || path!.endsWith('/summary') || path!.endsWith('/check') || path!.endsWith('/payouts') || path!.endsWith('/reconcile') ? '' : '%00'}`;
      const targets = [
        { url: `${path}?${search}${search ? '&' : ''}q=a%00b`, body: route.body },
        ...(inPath !== path ? [{ url: `${inPath}${search ? `?${search}` : ''}`, body: route.body }] : []),
      ];
      for (const target of targets) {
        const res = await request(stack.baseUrl, target.url, {
          method: route.method,
          headers: auth,
          ...(route.method === 'POST' && { body: JSON.stringify(target.body) }),
        });
        expect([route.path, target.url, res.status]).toEqual([route.path, target.url, 400]);
        expect(res.body).toMatchObject({
          error: 'invalid_request',
          issues: [{ message: 'must not contain NUL characters or unpaired UTF-16 surrogates' }],
        });
      }
      if (route.method === 'POST') {
        for (const raw of ['"a\\u0000b"', '"\\ud800"', '"\\udc00x"']) {
          const res = await request(stack.baseUrl, route.path, { method: 'POST', headers: auth, body: `{"note": ${raw}}` });
          expect([route.path, raw, res.status]).toEqual([route.path, raw, 400]);
          expect(res.body).toMatchObject({ error: 'invalid_request', issues: [{ path: 'note' }] });
        }
      }
    }
    for (const open of ['/health', '/docs/openapi.json']) {
      const res = await request(stack.baseUrl, `${open}?q=x%00`);
      expect([open, res.status]).toEqual([open, 400]);
      expect(res.body).toMatchObject({ error: 'invalid_request' });
    }
    const inEvent = await request(stack.baseUrl, '/v1/events', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ events: [event('nul-1', [node('H\u0000st', pubkey(0x900), 1)])] }).replace('H\\u0000st', 'H\\ud83dst'),
    });
    expect(inEvent.status).toBe(400);
    expect(inEvent.body.issues).toEqual([
      { path: 'events[0].value.recipients[0].name', message: 'must not contain NUL characters or unpaired UTF-16 surrogates' },
    ]);
    expect((await sql<{ n: number }>(`SELECT count(*)::int AS n FROM listening_event WHERE event_id = 'nul-1'`))[0]!.n).toBe(0);
  });

  it('refuses a destination off the curve and customKeys outside the TLV range, changing nothing', async () => {
    const cases: [object, string, string][] = [
      [node('Off', OFF_CURVE_PUBKEY, 1), 'events[0].value.recipients[0].address', 'a point on the curve'],
      [node('Zero', pubkey(1), 1, { customKey: '0', customValue: 'w' }), 'events[0].value.recipients[0].customKey', 'TLV type from 65536'],
      [node('Big', pubkey(1), 1, { customKey: '18446744073709551616', customValue: 'w' }), 'events[0].value.recipients[0].customKey', 'TLV type from 65536'],
      [node('Long', pubkey(1), 1, { customKey: '696969', customValue: 'é'.repeat(129) }), 'events[0].value.recipients[0].customValue', '256 bytes'],
    ];
    for (const [recipient, path, message] of cases) {
      const res = await stack.http.post('/v1/events', { events: [event('bad-key', [recipient])] });
      expect(res.status).toBe(400);
      expect(res.body.issues).toEqual([expect.objectContaining({ path, message: expect.stringContaining(message) })]);
    }
    expect((await sql<{ n: number }>(`SELECT count(*)::int AS n FROM listening_event WHERE event_id = 'bad-key'`))[0]!.n).toBe(0);
  });

  it('names each keysend after the value block of the episode it pays, and pays a recipient listed twice once', async () => {
    const shared = pubkey(0xa00);
    await stack.postEvents([
      event('n-1', [node('Alice (host)', shared, 3), node('Bob', pubkey(0xa01), 5), node('Hosting Co', shared, 2)], {
        feedGuid: 'feed-n1',
        itemGuid: 'ep-1',
        feedTitle: 'First Show',
        itemTitle: 'Pilot',
      }),
      event('n-2', [node('Alice as guest', shared, 1)], { feedGuid: 'feed-n2', itemGuid: 'ep-9', feedTitle: 'Second Show', itemTitle: 'Crossover' }),
    ]);
    await stack.accumulated();
    expect((await stack.runPayout()).status).toBe('completed');
    const toShared = (await stack.sim.payments()).filter((p) => p.destination === shared);
    expect(toShared.map((p) => [p.amount, p.blip10!.name, p.blip10!.podcast, p.blip10!.episode, p.blip10!.guid]).sort()).toEqual([
      [100, 'Alice as guest', 'Second Show', 'Crossover', 'feed-n2'],
      [50, 'Alice (host)', 'First Show', 'Pilot', 'feed-n1'],
    ]);
  });

  it("resolves an unknown keysend as paid only with proof (the wallet's record), records its fee, and counts it in the paid metrics", async () => {
    const slow = pubkey(0xb00);
    await stack.postEvents([event('u-1', [node('Slow', slow, 1)], { itemGuid: 'item-u' })]);
    await stack.accumulated();
    await stack.sim.setRule(slow, { respondWith: { status: 502, body: '<html>Bad Gateway</html>' } });
    const run = await stack.runPayout();
    expect(run).toMatchObject({ status: 'partial', totals: { unknown: 1 } });
    const [unknown] = run.keysends;
    const [paid] = await stack.sim.payments();

    // On the Alby rail the wallet chose the keysend's hash: no preimage can prove it, even the right one.
    for (const preimage of ['0'.repeat(64), paid!.preimage]) {
      const refused = await stack.http.post(`/v1/keysends/${unknown.id}/resolve`, { outcome: 'succeeded', preimage });
      expect(refused).toMatchObject({ status: 422, body: { error: 'unprocessable_evidence', message: expect.stringContaining('check the wallet') } });
    }
    expect((await stack.http.get(`/v1/keysends/${unknown.id}`)).body).toMatchObject({ status: 'unknown', verdicts: [] });
    // The wallet's record is the proof: a check (run by the worker, which counts it) finds it settled.
    const counters = async () => {
      const text = await (await fetch(stack.workerMetricsUrl!)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { paid: value('splitstream_paid_sats_total'), fee: value('splitstream_fee_sats_total') };
    };
    const before = await counters();
    const checked = await stack.http.post(`/v1/payments/${unknown.id}/check`, {});
    expect(checked.status).toBe(200);
    expect(checked.body).toMatchObject({
      status: 'succeeded',
      paymentHash: paid!.paymentHash,
      feeSats: paid!.fee,
      resolvedBy: 'reconciliation',
      verdicts: [{ outcome: 'succeeded', basis: 'wallet', decidedBy: 'reconciliation', evidence: { paymentHash: paid!.paymentHash } }],
    });
    expect(createHash('sha256').update(Buffer.from(paid!.preimage, 'hex')).digest('hex')).toBe(paid!.paymentHash);
    const after = await counters();
    expect([after.paid - before.paid, after.fee - before.fee]).toEqual([100, paid!.fee]);
    await expectBooksBalance();

    // A keysend the wallet has no record of cannot be claimed paid, whatever preimage is offered, nor by a check.
    await stack.postEvents([event('u-2', [node('Slow', slow, 1)], { itemGuid: 'item-u2' })]);
    await stack.accumulated();
    await stack.sim.setRule(slow, { fail: { code: 10, message: 'FAILURE_REASON_NO_ROUTE' } });
    const second = await stack.runPayout();
    await sql(`UPDATE payment SET status = 'unknown' WHERE id = $1`, [second.keysends[0].id]);
    const unproven = await stack.http.post(`/v1/keysends/${second.keysends[0].id}/resolve`, {
      outcome: 'succeeded',
      preimage: randomBytes(32).toString('hex'),
    });
    expect(unproven.status).toBe(422);
    expect(unproven.body.message).toMatch(/check the wallet/);
    const absent = await stack.http.post(`/v1/payments/${second.keysends[0].id}/check`, {});
    expect(absent).toMatchObject({ status: 200, body: { status: 'unknown', verdicts: [], lastCheck: { walletSaid: expect.any(String) } } });
  });

  it('answers an oversized body (413) and oversized headers (431) in the one error shape', async () => {
    const big = await request(stack.baseUrl, '/v1/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [], pad: 'x'.repeat(6 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ error: 'payload_too_large', message: 'the body is larger than the 5 MB limit' });
    const headers = await request(stack.baseUrl, '/v1/summary', { headers: { authorization: `Bearer ${stack.key}`, 'x-pad': 'y'.repeat(20_000) } });
    expect(headers.status).toBe(431);
    expect(headers.body).toEqual({ error: 'headers_too_large', message: 'the request headers are larger than the server accepts' });
  });
});
