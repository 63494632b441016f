// npm run bench: every performance figure of splitstream beside an anchor measured in the same run on the same
// machine, their ratio, the target and whether it is met. Runs against its own database (<DATABASE_URL name>_bench)
// and queue prefix, on ports from BENCH_PORT_BASE. Each section is one file under bench/sections; BENCH_ONLY=a,b
// runs only the sections named. BENCH_SECONDS: length of one measured load run (default 5).
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { loadConfig, parseSimulatorConfig } from '@splitstream/config';
import { type BenchContext, benchPorts, type BenchRow, type BenchSection, serviceEnv } from './support.js';
import { capped } from './sections/capped.js';
import { cli } from './sections/cli.js';
import { drain } from './sections/drain.js';
import { intake } from './sections/intake.js';
import { memory } from './sections/memory.js';
import { payout } from './sections/payout.js';
import { reads } from './sections/reads.js';
import { split } from './sections/split.js';

// In run order.
const sections: BenchSection[] = [split, cli, capped, intake, memory, drain, payout, reads];

const config = loadConfig();
const database = new URL(config.DATABASE_URL);
database.pathname = `${database.pathname}_bench`;
const ports = benchPorts();
const simToken = parseSimulatorConfig(process.env).SIM_ACCESS_TOKEN;
const env = {
  ...serviceEnv(database.toString(), config.REDIS_URL, simToken),
  EVENTS_RATE_LIMIT_PER_MINUTE: '100000000',
  // Every app has caps: these are high enough for the throughput runs (an app with caps of its own sets lower ones).
  DEFAULT_APP_DAY_CAP_SATS: '1000000000000',
  DEFAULT_APP_MONTH_CAP_SATS: '1000000000000',
  MIN_PAYOUT_SATS: '1',
  KEYSEND_BATCH_SIZE: '100',
  ALBY_MAX_REQUESTS_PER_SECOND: '100',
  PAYOUT_INTERVAL_SECONDS: '86400',
  RECONCILE_INTERVAL_SECONDS: '86400',
};

const rows: BenchRow[] = [];
const runCli = (...args: string[]) => spawnSync('node', ['dist/apps/cli/src/main.js', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
const ctx: BenchContext = {
  env,
  ports,
  databaseUrl: database.toString(),
  redisUrl: config.REDIS_URL,
  prefix: env.QUEUE_PREFIX,
  seconds: Number(process.env.BENCH_SECONDS ?? 5),
  cli: runCli,
  createKey: (app = 'bench') => {
    const created = runCli('keys', 'create', '--name', app, '--scopes', 'events:write,payouts:read,payouts:write,admin');
    if (created.status !== 0) throw new Error(created.stderr);
    return created.stdout.trim().split('\n').at(-1)!;
  },
  report: (row) => rows.push(row),
};

const only = process.env.BENCH_ONLY?.split(',');
const unknown = only?.filter((name) => !sections.some((s) => s.name === name));
if (unknown?.length) throw new Error(`BENCH_ONLY names no section ${unknown.join(', ')}; sections: ${sections.map((s) => s.name).join(', ')}`);
for (const section of sections.filter((s) => !only || only.includes(s.name))) {
  const started = performance.now();
  await section.run(ctx);
  console.error(`bench: ${section.name} done in ${Math.round((performance.now() - started) / 1000)} s`);
}

const met = (m: boolean | null) => (m === null ? '-' : m ? 'yes' : 'NO');
console.log(`\nsplitstream benchmarks, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}\n`);
console.log('| what | splitstream | anchor | ratio | target | met |\n| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.what} | ${r.figure} | ${r.anchor} | ${r.ratio === null ? '-' : r.ratio.toFixed(2)} | ${r.target} | ${met(r.met)} |`);
const judged = rows.filter((r) => r.met !== null);
console.log(`\ntargets met: ${judged.filter((r) => r.met).length} of ${judged.length}`);
process.exit(0);
