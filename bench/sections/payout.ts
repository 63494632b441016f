// The payout section of `npm run bench`: a run paying 10,000 recipients on the Alby rail against the simulator with
// no latency, beside its anchor: a bare client sending the very same wallet requests (the run's own keysends, read
// back from its payment rows, 100 per /payments/keysend/multi) to the same simulator. The anchor's time is the
// wallet's own; what is left of the run's wall time is ours: (run - wallet) / payments. Service and anchor
// alternate (BENCH_PAYOUT_ROUNDS, default 3), each service round paying recipients of its own. CPU per payment of
// the worker and of the database's backends is printed beside, and where PostgreSQL's backends waited (sampled).
import pg from 'pg';
import {
  type BenchRow,
  type BenchSection,
  DatabaseCpu,
  pubkey,
  freshDatabase,
  processCpuMs,
  startProcess,
  stopProcess,
  until,
  waitHealthy,
} from '../support.js';

export interface PayoutBenchContext {
  databaseUrl: string; // the bench's own database: recreated here
  env: Record<string, string>; // the processes' environment (ports, token, queue prefix)
  ports: { api: number; worker: number; sim: number };
  simToken: string;
  createKey: (app: string) => string; // an API key of a new app, through the CLI
}

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_PAYOUT_ROUNDS ?? 3);
const KEYSENDS_PER_REQUEST = 100;
const TARGET_MS_PER_PAYMENT = 0.5;
const APP = 'bench-payout';
// Every recipient is due (1 sat minimum), in chunks of 100 keysends, and no timer starts a run of its own.
const PAYOUT_ENV = {
  MIN_PAYOUT_SATS: '1',
  KEYSEND_BATCH_SIZE: String(KEYSENDS_PER_REQUEST),
  ALBY_MAX_REQUESTS_PER_SECOND: '100',
  PAYOUT_INTERVAL_SECONDS: '86400',
  RECONCILE_INTERVAL_SECONDS: '86400',
};

// Recipients owed 10 sats each on one episode, with the titles and names a bLIP-10 record carries.
async function seedOwed(client: pg.Client, round: number): Promise<void> {
  const keys = Array.from({ length: RECIPIENTS }, (_, i) => pubkey(1_000_000 * (round + 1) + i));
  await client.query('BEGIN');
  const { rows } = await client.query<{ id: string }>(`INSERT INTO recipient (address) SELECT a FROM unnest($1::text[]) a RETURNING id`, [keys]);
  const ids = rows.map((r) => r.id);
  await client.query(`INSERT INTO app_recipient (recipient_id, app_id, name) SELECT r, $2, 'Bench host' FROM unnest($1::bigint[]) r`, [ids, APP]);
  await client.query(
    `INSERT INTO episode (app_id, feed_guid, item_guid, feed_title, item_title, feed_url, feed_id, item_id)
     VALUES ($1, 'bench-feed', 'payout-item', 'The Bench Podcast', 'Episode 1: paying ten thousand hosts', 'https://example.com/feed.xml', 920666, 16297514724)
     ON CONFLICT DO NOTHING`,
    [APP],
  );
  await client.query(
    `INSERT INTO balance (recipient_id, app_id, feed_guid, item_guid, accrued_msat, owed_msat, name, app_name, app_version, sender_name, position)
     SELECT r, $2, 'bench-feed', 'payout-item', 10000, 10000, 'Bench host', 'Bench app', '1.0', 'a listener', 60 FROM unnest($1::bigint[]) r`,
    [ids, APP],
  );
  await client.query('COMMIT');
}

// Where the database's backends were, sampled every 10 ms: state, wait event and the statement running, counted.
class WaitSampler {
  readonly counts = new Map<string, number>();
  private readonly client: pg.Client;
  private running = false;
  private done: Promise<void> = Promise.resolve();

  constructor(databaseUrl: string) {
    this.client = new pg.Client({ connectionString: databaseUrl });
  }

  start(): void {
    this.running = true;
    this.done = (async () => {
      await this.client.connect();
      while (this.running) {
        const { rows } = await this.client.query<{ what: string }>(
          `SELECT state || COALESCE(' ' || wait_event_type || ':' || wait_event, '')
                  || CASE WHEN state = 'active' THEN ' [' || left(regexp_replace(query, '\\s+', ' ', 'g'), 48) || ']' ELSE '' END AS what
           FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'`,
        );
        for (const { what } of rows) this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await this.client.end();
    })();
  }

  async stop(): Promise<string> {
    this.running = false;
    await this.done;
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([what, n]) => `${what} ${Math.round((100 * n) / total)}%`)
      .join(', ');
  }
}

interface ServiceRound {
  payoutId: string;
  wallMs: number;
  workerCpuMs: number;
  databaseCpuMs: number;
  walletCpuMs: number;
  paid: number;
  waits: string;
}

async function serviceRound(
  ctx: PayoutBenchContext,
  client: pg.Client,
  key: string,
  pids: { worker: number; sim: number },
  round: number,
): Promise<ServiceRound> {
  await seedOwed(client, round);
  const databaseCpu = new DatabaseCpu(ctx.databaseUrl);
  await databaseCpu.start();
  const worker0 = processCpuMs(pids.worker);
  const sim0 = processCpuMs(pids.sim);
  const sampler = new WaitSampler(ctx.databaseUrl);
  sampler.start();
  const started = (await fetch(`http://127.0.0.1:${ctx.ports.api}/v1/payouts/run`, { method: 'POST', headers: { authorization: `Bearer ${key}` } }).then((r) =>
    r.json(),
  )) as { id: string };
  const sampled = new pg.Client({ connectionString: ctx.databaseUrl });
  await sampled.connect();
  let run: { started_at: Date; finished_at: Date | null; status: string } | undefined;
  await until(
    async () => {
      run = (await sampled.query('SELECT started_at, finished_at, status FROM payout WHERE id = $1', [started.id])).rows[0];
      return run?.finished_at != null;
    },
    10 * 60_000,
    50,
  );
  await sampled.end();
  const waits = await sampler.stop();
  const workerCpuMs = processCpuMs(pids.worker) - worker0;
  const walletCpuMs = processCpuMs(pids.sim) - sim0;
  const databaseCpuMs = await databaseCpu.elapsedMs();
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM payment WHERE payout_id = $1 AND status = 'succeeded'`, [started.id]);
  return {
    payoutId: started.id,
    wallMs: run!.finished_at!.getTime() - run!.started_at.getTime(),
    workerCpuMs,
    databaseCpuMs,
    walletCpuMs,
    paid: Number(rows[0]!.n),
    waits,
  };
}

// The anchor: the same wallet requests as the run's, sent one after another by a bare client.
async function walletRound(ctx: PayoutBenchContext, client: pg.Client, payoutId: string, simPid: number): Promise<{ wallMs: number; walletCpuMs: number }> {
  const { rows } = await client.query<{ destination: string; amount_sats: string; reference: string; custom_records: Record<string, string> }>(
    'SELECT destination, amount_sats, reference, custom_records FROM payment WHERE payout_id = $1 ORDER BY id',
    [payoutId],
  );
  const bodies: string[] = [];
  for (let i = 0; i < rows.length; i += KEYSENDS_PER_REQUEST) {
    // The body the Alby client sends (libs/wallet/src/alby/alby-client.ts).
    const keysends = rows.slice(i, i + KEYSENDS_PER_REQUEST).map((p) => ({
      amount: Number(p.amount_sats),
      destination: p.destination,
      memo: `splitstream ${p.reference}`,
      custom_records: p.custom_records,
    }));
    bodies.push(JSON.stringify({ keysends }));
  }
  const sim0 = processCpuMs(simPid);
  const started = process.hrtime.bigint();
  for (const body of bodies) {
    const response = await fetch(`http://127.0.0.1:${ctx.ports.sim}/payments/keysend/multi`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.simToken}` },
      body,
    });
    if (response.status !== 200) throw new Error(`the simulator answered ${response.status}`);
    await response.arrayBuffer();
  }
  return { wallMs: Number(process.hrtime.bigint() - started) / 1e6, walletCpuMs: processCpuMs(simPid) - sim0 };
}

// waitHealthy allows 30 s: a machine shared with test runs can take longer to boot a process.
async function bootedOnBusyMachine(url: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await waitHealthy(url);
    } catch (error) {
      if (attempt === 4) throw error;
    }
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const range = (values: number[], digits = 2) => `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;

export async function payoutSection(ctx: PayoutBenchContext): Promise<BenchRow[]> {
  await freshDatabase(ctx.databaseUrl);
  const key = ctx.createKey(APP);
  const env = { ...ctx.env, ...PAYOUT_ENV };
  const sim = startProcess('dist/apps/alby-sim/src/main.js', env);
  const api = startProcess('dist/apps/api/src/main.js', env);
  const worker = startProcess('dist/apps/worker/src/main.js', env);
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  try {
    await Promise.all([ctx.ports.sim, ctx.ports.api, ctx.ports.worker].map((port) => bootedOnBusyMachine(`http://127.0.0.1:${port}/health`)));
    await fetch(`http://127.0.0.1:${ctx.ports.sim}/admin/settings`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 0, failureRate: 0, rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000, balanceSats: 1_000_000_000_000 }),
    });
    await client.connect();
    const services: ServiceRound[] = [];
    const wallets: { wallMs: number; walletCpuMs: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const service = await serviceRound(ctx, client, key, { worker: worker.pid!, sim: sim.pid! }, round);
      services.push(service);
      const wallet = await walletRound(ctx, client, service.payoutId, sim.pid!);
      wallets.push(wallet);
      console.error(
        `payout round ${round + 1}: run ${service.wallMs} ms (${service.paid} paid), wallet ${wallet.wallMs.toFixed(0)} ms; CPU worker ${service.workerCpuMs} ms, ` +
          `PostgreSQL ${service.databaseCpuMs} ms, simulator ${service.walletCpuMs} ms (bare client: ${wallet.walletCpuMs} ms); PostgreSQL backends: ${service.waits}`,
      );
    }
    const ours = services.map((s, i) => (s.wallMs - wallets[i]!.wallMs) / s.paid);
    const oursMedian = median(ours);
    const workerCpu = services.map((s) => s.workerCpuMs / s.paid);
    const databaseCpu = services.map((s) => s.databaseCpuMs / s.paid);
    const allPaid = services.every((s) => s.paid === RECIPIENTS);
    return [
      {
        what: `payout run: ${RECIPIENTS} recipients, Alby rail, simulator without latency (median of ${ROUNDS}; ${allPaid ? 'all' : 'NOT all'} paid)`,
        figure: `${(median(services.map((s) => s.wallMs)) / 1000).toFixed(2)} s = ${oursMedian.toFixed(3)} ms of ours per payment (${range(ours, 3)})`,
        anchor: `the same wallet requests from a bare client: ${(median(wallets.map((w) => w.wallMs)) / 1000).toFixed(2)} s`,
        ratio: median(services.map((s, i) => s.wallMs / wallets[i]!.wallMs)),
        target: `<= ${TARGET_MS_PER_PAYMENT} ms of ours per payment`,
        met: allPaid && oursMedian <= TARGET_MS_PER_PAYMENT,
      },
      {
        what: 'payout run: CPU per payment (worker process; PostgreSQL backends)',
        figure: `worker ${median(workerCpu).toFixed(3)} ms (${range(workerCpu, 3)}); PostgreSQL ${median(databaseCpu).toFixed(3)} ms (${range(databaseCpu, 3)})`,
        anchor: `simulator per payment: ${(median(services.map((s) => s.walletCpuMs)) / RECIPIENTS).toFixed(3)} ms in the run, ${(median(wallets.map((w) => w.walletCpuMs)) / RECIPIENTS).toFixed(3)} ms for the bare client`,
        ratio: null,
        target: '-',
        met: null,
      },
    ];
  } finally {
    await client.end().catch(() => undefined);
    await Promise.all([stopProcess(worker), stopProcess(api), stopProcess(sim)]);
  }
}

export const payout: BenchSection = {
  name: 'payout',
  async run(ctx) {
    const rows = await payoutSection({
      databaseUrl: ctx.databaseUrl,
      env: ctx.env,
      ports: ctx.ports,
      simToken: ctx.env.SIM_ACCESS_TOKEN!,
      createKey: ctx.createKey,
    });
    for (const row of rows) ctx.report(row);
  },
};
