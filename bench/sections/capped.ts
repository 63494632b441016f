// Capped intake under overload: far more concurrent requests than the api has database connections (pg's pool: 10),
// on an app with its own day, month and listener caps, so every request is charged in the insert's statement. Counts
// 5xx (target 0): a request waiting on the counters' row locks must never time out or fail.
import { type BenchSection, capApp, freshDatabase, measureLoad, startApi, stopProcess, waitHealthy } from '../support.js';

const CONNECTIONS = 400;

export const capped: BenchSection = {
  name: 'capped',
  async run(ctx) {
    await freshDatabase(ctx.databaseUrl);
    const key = ctx.createKey('bench-capped');
    capApp(ctx, 'bench-capped');
    const api = startApi(ctx.env);
    await waitHealthy(`http://127.0.0.1:${ctx.ports.api}/health`);
    const load = await measureLoad(
      { url: `http://127.0.0.1:${ctx.ports.api}`, key, pid: api.pid! },
      { eventsPerRequest: 10, listeners: true, connections: CONNECTIONS },
      // Twice a load run: at 400 connections a busy machine answers the first requests only after several seconds.
      ctx.seconds * 2,
      ctx.databaseUrl,
      0,
    );
    await stopProcess(api);
    ctx.report({
      what: `POST /v1/events with caps (day, month, listener), 10 events/request, ${CONNECTIONS} conn, pool of 10`,
      figure: `${load.fiveXx} 5xx of ${load.requests} (${load.errors} other errors); ${Math.round(load.rps)} req/s (p99 ${load.p99} ms)`,
      anchor: '-',
      ratio: null,
      target: '0 5xx',
      met: load.requests > 0 && load.fiveXx === 0 && load.errors === 0,
    });
  },
};
