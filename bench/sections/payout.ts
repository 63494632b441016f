// A payout run to many recipients through the Alby simulator (instant wallet), beside the wallet's own round trips
// for as many keysends. The payout helper's section (issue 23: <= 0.5 ms of ours per payment) replaces this one.
import pg from 'pg';
import { type BenchContext, type BenchSection, freshDatabase, pubkey, startApi, startProcess, stopProcess, until, waitHealthy } from '../support.js';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 10_000);

async function seedOwed(ctx: BenchContext, count: number) {
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  await client.connect();
  const keys = Array.from({ length: count }, (_, i) => pubkey(100_000 + i));
  await client.query('BEGIN');
  const { rows: ids } = await client.query<{ id: string }>(`INSERT INTO recipient (address) SELECT a FROM unnest($1::text[]) a RETURNING id`, [keys]);
  await client.query(`INSERT INTO app_recipient (recipient_id, app_id, name) SELECT r, 'bench', 'bench' FROM unnest($1::bigint[]) r`, [ids.map((r) => r.id)]);
  await client.query(
    `INSERT INTO balance (recipient_id, app_id, feed_guid, item_guid, accrued_msat, owed_msat) SELECT r, 'bench', 'bench-feed', 'payout-item', 10000, 10000 FROM unnest($1::bigint[]) r`,
    [ids.map((r) => r.id)],
  );
  await client.query('COMMIT');
  await client.end();
}

export const payout: BenchSection = {
  name: 'payout',
  async run(ctx) {
    const sim = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${ctx.ports.sim}${path}`, init);
    const simProcess = startProcess('dist/apps/alby-sim/src/main.js', ctx.env);
    await waitHealthy(`http://127.0.0.1:${ctx.ports.sim}/health`);
    await sim('/admin/settings', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 0, rateLimitPerSecond: 100_000, rateLimitBurst: 100_000 }),
    });
    const keysends = Array.from({ length: 100 }, (_, i) => ({ destination: pubkey(200_000 + i), amount: 10, memo: 'anchor', customRecords: {} }));
    const walletStarted = performance.now();
    for (let i = 0; i < RECIPIENTS / 100; i++) {
      const res = await sim('/payments/keysend/multi', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.env.SIM_ACCESS_TOKEN}` },
        body: JSON.stringify({ keysends }),
      });
      if (res.status !== 200) throw new Error(`sim answered ${res.status}`);
    }
    const walletMs = performance.now() - walletStarted;

    await freshDatabase(ctx.databaseUrl);
    const key = ctx.createKey();
    await seedOwed(ctx, RECIPIENTS);
    const api = startApi(ctx.env);
    const worker = startProcess('dist/apps/worker/src/main.js', ctx.env);
    await Promise.all([waitHealthy(`http://127.0.0.1:${ctx.ports.api}/health`), waitHealthy(`http://127.0.0.1:${ctx.ports.worker}/health`)]);
    const auth = { authorization: `Bearer ${key}` };
    const started = await fetch(`http://127.0.0.1:${ctx.ports.api}/v1/payouts/run`, { method: 'POST', headers: auth }).then(
      (r) => r.json() as Promise<{ id: string }>,
    );
    let run: { startedAt: string; finishedAt: string | null; totals: { succeeded: number } } | undefined;
    await until(
      async () => {
        run = await fetch(`http://127.0.0.1:${ctx.ports.api}/v1/payouts/${started.id}`, { headers: auth }).then((r) => r.json() as Promise<typeof run>);
        return run!.finishedAt !== null;
      },
      10 * 60_000,
      200,
    );
    await Promise.all([stopProcess(api), stopProcess(worker), stopProcess(simProcess)]);
    const runMs = new Date(run!.finishedAt!).getTime() - new Date(run!.startedAt).getTime();
    const oursMs = (runMs - walletMs) / RECIPIENTS;
    ctx.report({
      what: `payout run: ${RECIPIENTS} recipients, 100 keysends/request, instant wallet (${run!.totals.succeeded} paid)`,
      figure: `${(runMs / 1000).toFixed(1)} s = ${oursMs.toFixed(2)} ms of ours per keysend`,
      anchor: `wallet round trips ${(walletMs / 1000).toFixed(1)} s`,
      ratio: null,
      target: '<= 10 s, <= 1 ms/keysend',
      met: runMs <= 10_000 && oursMs <= 1,
    });
  },
};
