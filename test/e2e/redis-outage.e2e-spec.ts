import { WorkerSchedule } from '../../apps/worker/src/worker-schedule.service.js';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { DisposableRedis, freePort } from '../support/outages.js';
import { type Stack, startStack } from '../support/stack.js';

// Redis down while apps keep sending: the events are stored, answered 202, and applied once Redis is back.
describe('a Redis outage (e2e)', () => {
  let stack: Stack;
  const redis = new DisposableRedis(0);

  beforeAll(async () => {
    redis.port = await freePort();
    await redis.start();
    stack = await startStack({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    if (!redis.running) await redis.start();
    await stack.close();
    await redis.stop();
  });

  it('delays the accumulation of events and loses none', async () => {
    await redis.stop();
    const accepted = await stack.postEvents(
      [1, 2, 3].map((i) => ({
        id: `outage-${i}`,
        feedGuid: 'feed-o',
        itemGuid: 'item-o',
        position: 0,
        seconds: 60,
        satsPerMinute: 10,
        value: { type: 'lightning', method: 'keysend', recipients: [{ type: 'node', address: pubkey(0x0f), split: 1 }] },
      })),
    );
    expect(accepted).toMatchObject({ accepted: 3, duplicates: 0 });
    expect((await stack.http.get('/v1/summary')).body.events).toEqual({ accepted: 3, awaitingAccumulation: 3, setAside: 0 });

    await redis.start();
    await stack.worker!.get(WorkerSchedule).sweep(0);
    await stack.accumulated();
    expect(await stack.invariant()).toMatchObject({ ok: true, eventsMsat: '30000', owedMsat: '30000' });
  });
});
