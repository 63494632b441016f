import { pubkey } from '../../../libs/money/src/testing/value-builders.js';
import { startSimulator, type Sim } from '../../../test/support/alby-sim.js';
import { feeCap } from './simulator.js';

const alice = pubkey(0xa11ce);
const bob = pubkey(0xb0b);

// The simulator's own behaviour, over real HTTP with raw requests (no client in between).
describe('alby-sim', () => {
  let sim: Sim;
  const post = async (path: string, body: unknown, token = sim.token) => {
    const response = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json().catch(() => null)) as any };
  };
  const multi = (keysends: unknown[]) => post('/payments/keysend/multi', { keysends });

  beforeAll(async () => {
    sim = await startSimulator();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000 });
  });
  afterAll(() => sim.close());

  describe('validation, as the real server', () => {
    it('requires the bearer token: 401 code 1', async () => {
      expect(await post('/payments/keysend', { amount: 1, destination: alice }, 'nope')).toMatchObject({
        status: 401,
        body: { error: true, code: 1, message: 'bad auth' },
      });
    });

    it.each([
      ['amount 0', { amount: 0, destination: bob }],
      ['a fractional amount', { amount: 1.5, destination: bob }],
      ['no destination', { amount: 1 }],
      ['a non-numeric TLV key', { amount: 1, destination: bob, custom_records: { abc: 'x' } }],
    ])('rejects a multi with one item with %s as a whole: 400 code 8, nothing paid', async (_, bad) => {
      const res = await multi([{ amount: 5, destination: alice }, bad]);
      expect(res).toMatchObject({ status: 400, body: { error: true, code: 8, message: 'Bad arguments' } });
      expect(await sim.attempts()).toEqual([]);
    });

    it('rejects an invalid destination pubkey with code 2', async () => {
      expect(await multi([{ amount: 5, destination: '04abc' }])).toMatchObject({ status: 400, body: { code: 2 } });
    });

    it('checks the balance once against the sum, with a 1% fee reserve', async () => {
      await sim.configure({ balanceSats: 1_010 });
      expect(
        (
          await multi([
            { amount: 500, destination: alice },
            { amount: 501, destination: bob },
          ])
        ).body,
      ).toEqual({
        error: true,
        code: 2,
        message: 'not enough balance. Make sure you have at least 1% reserved for potential fees',
      });
      expect(
        (
          await multi([
            { amount: 500, destination: alice },
            { amount: 500, destination: bob },
          ])
        ).status,
      ).toBe(200);
    });

    it('requires record 696969 for a wallet on the simulated Alby node', async () => {
      await sim.configure({ internalNode: alice });
      expect(await multi([{ amount: 5, destination: alice }])).toMatchObject({ status: 400, body: { code: 8 } });
      expect((await multi([{ amount: 5, destination: alice, custom_records: { '696969': 'w' } }])).status).toBe(200);
    });

    it('refuses bodies over 250 KB', async () => {
      const huge = { keysends: [{ amount: 1, destination: alice, memo: 'x'.repeat(260 * 1024) }] };
      expect((await post('/payments/keysend/multi', huge)).status).toBe(413);
    });
  });

  describe('paying', () => {
    it('pays multi items one after another in order; failed items echo destination and records with amount 0', async () => {
      await sim.setRule(bob, { fail: { code: 10, message: 'no_route' } });
      const res = await multi([
        { amount: 2_000, destination: alice, custom_records: { '696969': 'a' } },
        { amount: 7, destination: bob, custom_records: { '696969': 'b' } },
      ]);
      expect(res.status).toBe(200);
      expect(res.body.keysends[0].keysend).toMatchObject({ amount: 2_000, fee: 2, destination: alice });
      expect(res.body.keysends[1]).toEqual({
        keysend: { destination: bob, custom_records: { '696969': 'b' }, amount: 0, fee: 0 },
        error: { error: true, code: 10, message: 'no_route' },
      });
      expect(res.body.keysends[0].keysend.payment_hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('answers 500 with the same shape when every item failed', async () => {
      await sim.setRule(alice, { fail: { code: 10, message: 'no_route' } });
      const res = await multi([{ amount: 1, destination: alice }]);
      expect(res.status).toBe(500);
      expect(res.body.keysends[0].error.code).toBe(10);
    });

    it('answers a failed single keysend with HTTP 200 and error: true, as LNDhub does', async () => {
      await sim.setRule(alice, { fail: { code: 10, message: 'no_route' } });
      expect(await post('/payments/keysend', { amount: 1, destination: alice })).toMatchObject({
        status: 200,
        body: { error: true, code: 10, message: 'no_route' },
      });
    });

    it('charges fees within the server cap and takes amount + fee off the balance', async () => {
      await sim.configure({ balanceSats: 1_000_000, feePpm: 50_000 });
      const res = await multi([
        { amount: 100, destination: alice },
        { amount: 10_000, destination: bob },
      ]);
      expect(res.body.keysends.map((k: { keysend: { fee: number } }) => k.keysend.fee)).toEqual([5, Math.min(500, feeCap(10_000))]);
      expect((await sim.settings()).balanceSats).toBe(1_000_000 - 100 - 5 - 10_000 - 101);
    });
  });

  describe('failure injection', () => {
    it('fails the first N attempts to a destination, then pays', async () => {
      await sim.setRule(alice, { failFirst: 2 });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await multi([{ amount: 1, destination: alice }])).status);
      expect(statuses).toEqual([500, 500, 200]);
    });

    it('delays a destination', async () => {
      await sim.setRule(alice, { delayMs: 300 });
      const started = Date.now();
      await multi([{ amount: 1, destination: alice }]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('adds latency to every request', async () => {
      await sim.configure({ latencyMs: 200 });
      const started = Date.now();
      await multi([{ amount: 1, destination: alice }]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    });

    it('fails a seeded share of payments, the same ones for the same seed', async () => {
      const run = async () => {
        await sim.reset();
        await sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000, failureRate: 0.5, seed: 42 });
        const res = await multi(Array.from({ length: 40 }, (_, i) => ({ amount: 1, destination: pubkey(i + 1) })));
        return res.body.keysends.map((k: { error?: unknown }) => (k.error ? 'x' : '.')).join('');
      };
      const first = await run();
      expect(first).toBe(await run());
      expect(first).toMatch(/x/);
      expect(first).toMatch(/\./);
    });

    it('accepts a request, pays, and never answers (hang)', async () => {
      await sim.setRule(alice, { hang: true });
      const controller = AbortSignal.timeout(500);
      await expect(
        fetch(`${sim.url}/payments/keysend/multi`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ keysends: [{ amount: 3, destination: alice }] }),
          signal: controller,
        }),
      ).rejects.toThrow();
      expect((await sim.payments()).map((p) => p.amount)).toEqual([3]);
    });

    it('rate-limits per token: 429 code 1 with x-rate-limit-reset', async () => {
      await sim.configure({ rateLimitPerSecond: 1, rateLimitBurst: 1 });
      expect((await multi([{ amount: 1, destination: alice }])).status).toBe(200);
      const limited = await multi([{ amount: 1, destination: alice }]);
      expect(limited).toMatchObject({ status: 429, body: { error: true, code: 1, message: 'Too many requests' } });
      expect(Number(limited.headers.get('x-rate-limit-reset'))).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
      expect(limited.headers.get('x-rate-limit-remaining')).toBe('0');
    });

    it('rejects an invalid rule', async () => {
      await expect(sim.setRule(alice, { failFirst: -1 })).rejects.toThrow(/400/);
    });
  });

  describe('reading back what was paid', () => {
    it('lists every payment with its custom records decoded (bLIP-10 parsed), memo and time; reset clears it', async () => {
      const blip10 = { action: 'stream', value_msat: 5_000, name: 'Host' };
      await multi([{ amount: 5, destination: alice, memo: 'ks-1', custom_records: { '7629169': JSON.stringify(blip10), '696969': 'w' } }]);
      const [payment] = await sim.payments();
      expect(payment).toMatchObject({ amount: 5, destination: alice, memo: 'ks-1', blip10, customRecords: { '696969': 'w' } });
      expect(new Date(payment!.createdAt).getTime()).toBeLessThanOrEqual(Date.now());
      await sim.reset();
      expect(await sim.payments()).toEqual([]);
    });

    it('serves GET /invoices/outgoing with base64 custom records', async () => {
      await multi([{ amount: 5, destination: alice, custom_records: { '696969': 'wallet' } }]);
      const response = await fetch(`${sim.url}/invoices/outgoing`, { headers: { authorization: `Bearer ${sim.token}` } });
      const [item] = (await response.json()) as any[];
      expect(item).toMatchObject({ amount: 5, type: 'outgoing', custom_records: { '696969': Buffer.from('wallet').toString('base64') } });
    });
  });
});
