import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { PayoutRequests } from '@splitstream/payouts';
import { eventually } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const host = pubkey(0x40057);
const guest = pubkey(0x60e57);
const app = pubkey(0xa99);
const host2 = pubkey(0x40058);
const artist = pubkey(0xa27157);
const flaky = pubkey(0xf1a4);
const hangs = pubkey(0x4a96);
const dead = pubkey(0xdead);

const node = (name: string, address: string, split: number, extra: object = {}) => ({ name, type: 'node', address, split, ...extra });
const event = (id: string, feedGuid: string, itemGuid: string, seconds: number, satsPerMinute: number, recipients: object[], extra: object = {}) => ({
  id,
  feedGuid,
  itemGuid,
  feedTitle: `Feed ${feedGuid}`,
  itemTitle: `Episode ${itemGuid}`,
  feedId: 920666,
  position: 0,
  seconds,
  satsPerMinute,
  senderName: 'satoshi',
  appName: 'TestApp',
  appVersion: '1.0',
  value: { type: 'lightning', method: 'keysend', recipients, ...extra },
});

// The whole pipeline over real HTTP, PostgreSQL, Redis and the Alby simulator.
describe('streaming pipeline (e2e)', () => {
  let stack: Stack;
  const paymentsTo = async (destination: string) => (await stack.sim.payments()).filter((p) => p.destination === destination);
  const expectInvariant = async () => {
    const report = await stack.invariant();
    expect(report).toMatchObject({ ok: true, problems: [] });
    expect(report.accruedMsat).toBe(report.eventsMsat);
    return report;
  };

  beforeAll(async () => {
    stack = await startStack({ RETRY_BASE_SECONDS: '1', RETRY_MAX_SECONDS: '2', MAX_ATTEMPTS: '3', ALBY_TIMEOUT_MS: '1500' });
  });
  afterAll(() => stack.close());

  it('splits events exactly, pays every group once with correct bLIP-10 records, and retries a failing destination after backoff', async () => {
    const episodeA = [
      node('Host', host, 60),
      node('Guest', guest, 40, { customKey: '696969', customValue: 'guest-wallet' }),
      node('App', app, 5, { fee: true }),
    ];
    const episodeB = [node('Host2', host2, 1), node('App', app, 5, { fee: true })];
    const timeSplits = [
      { startTime: 60, duration: 60, remotePercentage: 90, remoteFeedGuid: 'music-feed', remoteItemGuid: 'song-1', recipients: [node('Artist', artist, 1)] },
    ];
    await stack.postEvents([
      event('a-1', 'feed-a', 'item-a', 60, 100, episodeA),
      event('a-2', 'feed-a', 'item-a', 60, 100, episodeA),
      event('b-1', 'feed-b', 'item-b', 120, 60, episodeB, { timeSplits }),
      event('c-1', 'feed-c', 'item-c', 60, 50, [node('Flaky', flaky, 1)]),
    ]);
    await stack.accumulated();
    const accrued = await expectInvariant();
    expect(accrued.eventsMsat).toBe(String(200_000 + 120_000 + 50_000));
    expect(accrued.owedMsat).toBe(accrued.eventsMsat);

    await stack.sim.setRule(flaky, { fail: { code: 10, message: 'FAILURE_REASON_NO_ROUTE' } });
    const first = await stack.runPayout();
    expect(first.status).toBe('partial'); // Flaky failed; everyone else was paid
    await expectInvariant();

    // Episode A: App 5% of 200 sats = 10, rest 190 split 60:40 = 114 / 76.
    // Episode B (120 s, 120 sats): App 6; first minute 57 to Host2; second minute 90% of 57 = 51.3 to Artist, 5.7 to Host2.
    const paid = (await stack.sim.payments()).map((p) => ({ to: p.destination, sats: p.amount, episode: p.blip10?.episode_guid }));
    expect(paid).toEqual(
      expect.arrayContaining([
        { to: host, sats: 114, episode: 'item-a' },
        { to: guest, sats: 76, episode: 'item-a' },
        { to: app, sats: 10, episode: 'item-a' },
        { to: app, sats: 6, episode: 'item-b' },
        { to: host2, sats: 62, episode: 'item-b' },
        { to: artist, sats: 51, episode: 'item-b' },
      ]),
    );
    expect(paid).toHaveLength(6);

    const [guestPayment] = await paymentsTo(guest);
    expect(guestPayment!.customRecords['696969']).toBe('guest-wallet');
    expect(Object.keys(guestPayment!.customRecords)).not.toContain('5482373484');
    expect(guestPayment!.blip10).toMatchObject({
      action: 'stream',
      value_msat: 76_000,
      value_msat_total: 200_000,
      guid: 'feed-a',
      podcast: 'Feed feed-a',
      feedID: 920666,
      episode_guid: 'item-a',
      episode: 'Episode item-a',
      ts: 0,
      app_name: 'test-app', // the app's registered name (none here: its id), never the event's appName
      app_version: '1.0',
      sender_name: 'satoshi',
      name: 'Guest',
    });
    const [artistPayment] = await paymentsTo(artist);
    expect(artistPayment!.blip10).toMatchObject({ remote_feed_guid: 'music-feed', remote_item_guid: 'song-1', value_msat_total: 120_000, name: 'Artist' });
    const all = await stack.sim.payments();
    const boostOf = (episode: string) => new Set(all.filter((p) => p.blip10?.episode_guid === episode).map((p) => p.blip10!.boost_uuid));
    expect(boostOf('item-a').size).toBe(1);
    expect(boostOf('item-b').size).toBe(1);
    expect([...boostOf('item-a')][0]).not.toBe([...boostOf('item-b')][0]);
    expect(new Set(all.map((p) => p.blip10!.uuid)).size).toBe(all.length);

    // Sub-sat remainders stay owed: Host2 0.7 sat, Artist 0.3 sat.
    expect((await stack.recipient(host2)).body).toMatchObject({ paidMsat: '62000', owedMsat: '700', inFlightMsat: '0' });
    expect((await stack.recipient(artist)).body).toMatchObject({ paidMsat: '51000', owedMsat: '300' });

    // The failing destination: recorded as failed, its amount owed again, backing off.
    const failedKeysend = first.keysends.find((k: { recipient: { address: string } }) => k.recipient.address === flaky);
    expect(failedKeysend).toMatchObject({ status: 'failed', lastErrorCode: '10', lastErrorMessage: 'FAILURE_REASON_NO_ROUTE', amountSats: 50, attempts: 1 });
    expect(first.totals).toMatchObject({ keysends: 7, succeeded: 6, failed: 1, unknown: 0, paidSats: 319 });
    const flakyStatus = (await stack.recipient(flaky)).body;
    expect(flakyStatus).toMatchObject({ owedMsat: '50000', inFlightMsat: '0', consecutiveFailures: 1, parked: false, lastErrorCode: '10' });
    expect(new Date(flakyStatus.nextAttemptAt).getTime()).toBeGreaterThan(Date.now() - 100);

    // Backing off: an immediate run does not try it again.
    await stack.sim.clearRule(flaky);
    const second = await stack.runPayout();
    expect(second.totals.keysends).toBe(0);
    expect((await stack.sim.attempts()).filter((a) => a.destination === flaky)).toHaveLength(1);

    // After the backoff, a later run pays it, once.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const third = await stack.runPayout();
    expect(third.totals).toMatchObject({ keysends: 1, succeeded: 1 });
    expect((await paymentsTo(flaky)).map((p) => p.amount)).toEqual([50]);
    expect((await stack.recipient(flaky)).body).toMatchObject({ paidMsat: '50000', owedMsat: '0', consecutiveFailures: 0, nextAttemptAt: null });
    await expectInvariant();

    // Every event shows its per-recipient amounts and the keysends that paid them.
    const detail = (await stack.http.get('/v1/events/b-1')).body;
    expect(detail.amountMsat).toBe('120000');
    expect(detail.allocations.map((a: { amountMsat: string }) => a.amountMsat).sort()).toEqual(['51300', '6000', '62700'].sort());
    expect(detail.keysends.map((k: { status: string }) => k.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('never re-sends a keysend whose outcome is unknown', async () => {
    await stack.postEvents([event('h-1', 'feed-h', 'item-h', 60, 30, [node('Hangs', hangs, 1)])]);
    await stack.accumulated();
    await stack.sim.setRule(hangs, { hang: true });
    const run = await stack.runPayout();
    expect(run.totals).toMatchObject({ keysends: 1, unknown: 1 });
    expect(run.keysends[0]).toMatchObject({ status: 'unknown', amountSats: 30 });
    expect((await paymentsTo(hangs)).length).toBe(1); // the simulator did pay it
    expect((await stack.recipient(hangs)).body).toMatchObject({ inFlightMsat: '30000', owedMsat: '0', paidMsat: '0' });
    await expectInvariant();

    await stack.sim.clearRule(hangs);
    const again = await stack.runPayout();
    expect(again.totals.keysends).toBe(0);
    expect((await paymentsTo(hangs)).length).toBe(1);
    const summary = (await stack.http.get('/v1/summary')).body;
    expect(summary.unknown).toEqual({ keysends: 1, sats: 30 });
    await expectInvariant();
  });

  it('parks a recipient after MAX_ATTEMPTS consecutive failures, and pays it once an operator un-parks it', async () => {
    await stack.postEvents([event('d-1', 'feed-d', 'item-d', 60, 20, [node('Dead', dead, 1)])]);
    await stack.accumulated();
    await stack.sim.setRule(dead, { fail: { code: 10, message: 'no_route' } });
    for (let attempt = 1; attempt <= 3; attempt++) {
      await eventually(
        async () => (await stack.recipient(dead)).body,
        (r) => r.nextAttemptAt === null || new Date(r.nextAttemptAt).getTime() <= Date.now(),
        5_000,
      );
      const run = await stack.runPayout();
      expect(run.keysends.find((k: { recipient: { address: string } }) => k.recipient.address === dead)).toMatchObject({ status: 'failed', attempts: attempt });
    }
    const parked = (await stack.recipient(dead)).body;
    expect(parked).toMatchObject({ parked: true, consecutiveFailures: 3, owedMsat: '0', parkedMsat: '20000' });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await stack.runPayout()).totals.keysends).toBe(0); // parked: its money is parked, not paid

    // Still accruing while parked (into parked money).
    await stack.postEvents([event('d-2', 'feed-d', 'item-d', 60, 20, [node('Dead', dead, 1)])]);
    await stack.accumulated();
    expect((await stack.recipient(dead)).body).toMatchObject({ owedMsat: '0', parkedMsat: '40000' });

    await stack.sim.clearRule(dead);
    const unparked = await stack.http.post('/v1/recipients/unpark', { address: dead });
    expect(unparked).toMatchObject({ status: 200, body: { parked: false, consecutiveFailures: 0 } });
    expect((await stack.runPayout()).totals).toMatchObject({ keysends: 1, succeeded: 1, paidSats: 40 });
    expect((await paymentsTo(dead)).map((p) => p.amount)).toEqual([40]);
    await expectInvariant();
  });
});

describe('stranded remainders and scheduled runs (e2e)', () => {
  let stack: Stack;
  const fan = pubkey(0xfa4);
  beforeAll(async () => {
    stack = await startStack({ PAYOUT_INTERVAL_SECONDS: '1' });
  });
  afterAll(() => stack.close());

  it('pays sub-sat remainders spread over many episodes once they add up to a sat', async () => {
    // 0.6 sat owed on each of three episodes: no episode alone can pay a sat; together they pay 1 (1.8 sats).
    await stack.postEvents(['x', 'y', 'z'].map((item) => event(`rem-${item}`, 'feed-r', item, 36, 1, [node('Fan', fan, 1)])));
    await stack.accumulated();
    await eventually(
      async () => (await stack.sim.payments()).filter((p) => p.destination === fan),
      (p) => p.length === 1,
      10_000,
    );
    expect((await stack.sim.payments()).filter((p) => p.destination === fan).map((p) => p.amount)).toEqual([1]);
    // The wallet has paid; the run records the outcome a moment after its answer.
    const paid = await eventually(
      async () => (await stack.recipient(fan)).body,
      (body) => body.paidMsat !== '0',
      10_000,
    );
    expect(paid).toMatchObject({ accruedMsat: '1800', paidMsat: '1000', owedMsat: '800' });
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it('starts one run per tick even when every instance asks at once', async () => {
    const requests = stack.api.get(PayoutRequests);
    const tick = new Date('2031-01-01T00:00:00Z');
    const ids = await Promise.all(Array.from({ length: 5 }, () => requests.requestScheduledRun(tick, 300)));
    expect(ids.filter((id) => id !== undefined)).toHaveLength(1);
  });

  it('never lets two runs pay the same money', async () => {
    const twice = pubkey(0x7a1ce);
    await stack.postEvents([event('two-1', 'feed-t', 'item-t', 60, 100, [node('Twice', twice, 1)])]);
    await stack.accumulated();
    await stack.sim.setRule(twice, { delayMs: 500 });
    const started = await Promise.all([1, 2, 3].map(() => stack.http.post('/v1/payouts/run', {})));
    // One run: the requests made while it was queued or running answer it.
    expect(new Set(started.map((r) => r.body.id)).size).toBe(1);
    for (const { body } of started) {
      await eventually(
        () => stack.http.get(`/v1/payouts/${body.id}`),
        (r) => ['completed', 'skipped'].includes(r.body.status),
        20_000,
      );
    }
    expect((await stack.sim.payments()).filter((p) => p.destination === twice).map((p) => p.amount)).toEqual([100]);
    expect(await stack.invariant()).toMatchObject({ ok: true });
  });

  it('starts payout runs on the schedule', async () => {
    const { body } = await stack.http.get('/v1/payouts?limit=100');
    const scheduled = body.payouts.filter((p: { trigger: string }) => p.trigger === 'schedule');
    expect(scheduled.length).toBeGreaterThan(0);
    expect(scheduled.every((p: { status: string }) => ['completed', 'skipped', 'running', 'queued'].includes(p.status))).toBe(true);
  });
});
