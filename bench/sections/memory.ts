// The api's resident memory: idle (booted and warmed with a few requests), its peak while under the intake load
// (sampled every 200 ms) and after the load: 5 s after it, and settled (60 s after it). V8 shrinks its heap only
// once its memory reducer sees the process idle (measured: RSS stays at its load level for about 25 s, then drops
// below idle), so the target, after-load <= 1.3x idle, is judged on the settled figure; both are printed.
import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchSection, freshDatabase, measureLoad, RssSampler, ratio, rssMegabytes, startApi, stopProcess, waitHealthy } from '../support.js';

const WARM_UP_SECONDS = 1;
const SETTLE_MS = 5_000;
const SETTLED_MS = 60_000;
const AFTER_LOAD_TARGET = 1.3;

export const memory: BenchSection = {
  name: 'memory',
  async run(ctx) {
    await freshDatabase(ctx.databaseUrl);
    const key = ctx.createKey('bench-memory');
    const api = startApi(ctx.env);
    const target = { url: `http://127.0.0.1:${ctx.ports.api}`, key, pid: api.pid! };
    await waitHealthy(`${target.url}/health`);
    // Warmed: one connection for a second, so every route and statement the load takes has run.
    await measureLoad(target, { eventsPerRequest: 1, listeners: false, connections: 1 }, WARM_UP_SECONDS, ctx.databaseUrl, 0);
    await sleep(SETTLE_MS);
    const idle = rssMegabytes(api.pid!);
    const sampler = new RssSampler(api.pid!);
    for (const eventsPerRequest of [1, 100])
      await measureLoad(target, { eventsPerRequest, listeners: false, connections: 50 }, ctx.seconds * 2, ctx.databaseUrl);
    const peak = sampler.stop();
    await sleep(SETTLE_MS);
    const soonAfter = rssMegabytes(api.pid!);
    await sleep(SETTLED_MS - SETTLE_MS);
    const after = rssMegabytes(api.pid!);
    await stopProcess(api);
    ctx.report({
      what: `memory: api RSS idle / peak under load (1 and 100 events/request, 50 conn, ${ctx.seconds * 2} s each) / ${SETTLE_MS / 1000} s and ${SETTLED_MS / 1000} s after it`,
      figure: `${idle} / ${peak} / ${soonAfter} / ${after} MB`,
      anchor: `idle ${idle} MB`,
      ratio: ratio(after, idle),
      target: `settled after-load <= ${AFTER_LOAD_TARGET}x idle`,
      met: after <= AFTER_LOAD_TARGET * idle,
    });
  },
};
