// Shared pieces of the benchmarks: processes, readiness, memory, a fresh database.
import { type ChildProcess, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import autocannon from 'autocannon';
import pg from 'pg';

// BENCH_CPU_PROF=<dir>: every process writes a V8 CPU profile there (open it in Chrome DevTools).
const profiling = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];

// Every process the bench started and has not stopped: killed when the bench exits, also when it fails midway.
const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));

export function startProcess(entry: string, env: Record<string, string>, args: string[] = []): ChildProcess {
  const child = spawn('node', [...profiling, ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

// The built api, as `npm start` and the image start it.
export const startApi = (env: Record<string, string>) => startProcess('dist/apps/api/src/main.js', env);

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

// Up to two minutes: on a busy machine a Nest process can take most of one to boot.
export async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (
      await fetch(url).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error(`${url} did not come up`);
}

// Resident memory of a process, in MB, from the kernel's own account.
export function rssMegabytes(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kb / 1024);
}

export async function freshDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${target.pathname.slice(1)}" WITH (FORCE)`);
  await admin.end();
  const migrated = spawnSync('npx', ['tsx', 'scripts/db/migrate.ts', 'deploy'], { env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' });
  if (migrated.status !== 0) throw new Error(`migrations failed: ${migrated.stderr}`);
}

export async function until(probe: () => Promise<boolean>, timeoutMs: number, pollMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

export const ratio = (figure: number, anchor: number) => (anchor === 0 ? 0 : figure / anchor);
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// One line of the bench's table: a figure beside the anchor measured in the same run, their ratio, the target and
// whether it is met (null: no target, or nothing to judge).
export interface BenchRow {
  what: string;
  figure: string;
  anchor: string;
  ratio: number | null;
  target: string;
  met: boolean | null;
}

// Ports of the bench's processes: BENCH_PORT_BASE (default 3190) and the next ones, so two benches can run at once.
export function benchPorts() {
  const base = Number(process.env.BENCH_PORT_BASE ?? 3190);
  return {
    api: base,
    bare: base + 1,
    worker: base + 2,
    worker2: base + 3,
    sim: base + 4,
    anchor: base + 5,
    spare: base + 6,
    intakeSync: base + 7,
    intakeGroup: base + 8,
  };
}

// The bench's own database: <DATABASE_URL's name>_bench.
export function benchDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `${url.pathname}_bench`;
  return url.toString();
}

// What every process of a bench run is started with: its database, queue prefix, ports and the simulator as its
// wallet. The simulator reads SIM_PORT and SIM_ACCESS_TOKEN; the service pays it through ALBY_API_URL and
// ALBY_ACCESS_TOKEN.
export function serviceEnv(databaseUrl: string, redisUrl: string, simToken: string) {
  const ports = benchPorts();
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `ssbench-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: 'warn',
    API_PORT: String(ports.api),
    WORKER_PORT: String(ports.worker),
    SIM_PORT: String(ports.sim),
    SIM_ACCESS_TOKEN: simToken,
    ALBY_API_URL: `http://127.0.0.1:${ports.sim}`,
    ALBY_ACCESS_TOKEN: simToken,
    // Several workers and apis run side by side and nothing scrapes them: no /metrics listeners.
    METRICS_PORT: '0',
    WORKER_METRICS_PORT: '0',
  };
}

const TICKS_PER_SECOND = 100; // the kernel's USER_HZ (getconf CLK_TCK) on Linux
// CPU a process has used so far (user + system), in ms; 0 once it is gone.
export function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

// CPU of the PostgreSQL backends serving one database (the bench's): sampled per backend pid, so a window's cost is
// the sum of each backend's growth (a backend that appears inside the window counts from zero). PostgreSQL runs on
// this machine, so /proc sees its processes.
export class DatabaseCpu {
  private readonly seen = new Map<number, number>();

  constructor(private readonly databaseUrl: string) {}

  private async backends(): Promise<number[]> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    await client.end();
    return rows.map((r) => r.pid);
  }

  // Starts a window: remembers every backend's CPU so far.
  async start(): Promise<void> {
    this.seen.clear();
    for (const pid of await this.backends()) this.seen.set(pid, processCpuMs(pid));
  }

  // CPU the database's backends used since start(), in ms.
  async elapsedMs(): Promise<number> {
    let total = 0;
    for (const pid of await this.backends()) total += processCpuMs(pid) - (this.seen.get(pid) ?? 0);
    return total;
  }
}

// What every section gets from the orchestrator (bench/run.ts): the services' environment, its ports and database,
// a way to create an app's key and run the CLI against that database, and report(row) for the table.
export interface BenchContext {
  env: Record<string, string>;
  ports: ReturnType<typeof benchPorts>;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  seconds: number; // length of one measured load run
  createKey(app?: string): string;
  cli(...args: string[]): SpawnSyncReturns<string>;
  report(row: BenchRow): void;
}

export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<void>;
}

const pubkeyOf = (n: number) => Buffer.from(secp256k1.getPublicKey(Buffer.from((BigInt(n) + 1n).toString(16).padStart(64, '0'), 'hex'), true)).toString('hex');
export const pubkey = pubkeyOf;
export const benchRecipients = [1, 2, 3, 4].map((n, i) => ({
  name: `R${n}`,
  type: 'node',
  address: pubkeyOf(n),
  split: [50, 40, 10, 2][i]!,
  ...(i === 3 && { fee: true }),
}));
let sequence = 0;
// A listening event with an id never sent before in this run; with a listener id when the app has listener caps.
export const benchEvent = (listenerId?: string) => ({
  id: `e-${++sequence}`,
  feedGuid: 'bench-feed',
  itemGuid: 'bench-item',
  position: 0,
  seconds: 60,
  satsPerMinute: 10,
  value: { type: 'lightning', method: 'keysend', recipients: benchRecipients },
  ...(listenerId !== undefined && { listenerId }),
});

// One load shape: events per request, whether each event names one of 1,000 listeners, concurrent connections.
export interface LoadShape {
  eventsPerRequest: number;
  listeners: boolean;
  connections: number;
}

// A load run's figures: throughput, latency, and CPU per request of the server process and of PostgreSQL's
// backends serving the bench database (so a busy machine still gives a fair comparison).
export interface LoadFigures {
  rps: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  serverCpuMs: number; // per request
  databaseCpuMs: number; // per request
  requests: number;
  fiveXx: number;
  errors: number;
}

export interface LoadTarget {
  url: string; // base url; POST {url}/v1/events
  key: string; // bearer token
  pid: number; // the server process, for its CPU
}

// POSTs /v1/events with fresh events for `seconds` (after a 1 s warm-up) and measures the server and its database.
export async function measureLoad(target: LoadTarget, shape: LoadShape, seconds: number, databaseUrl: string, warmUp = 1): Promise<LoadFigures> {
  let listener = 0;
  const body = () =>
    JSON.stringify({ events: Array.from({ length: shape.eventsPerRequest }, () => benchEvent(shape.listeners ? `l-${++listener % 1000}` : undefined)) });
  const run = (duration: number) =>
    autocannon({
      url: `${target.url}/v1/events`,
      connections: shape.connections,
      duration,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.key}` },
      requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }],
    });
  if (warmUp) await run(warmUp);
  const database = new DatabaseCpu(databaseUrl);
  await database.start();
  const cpuBefore = processCpuMs(target.pid);
  const result = await run(seconds);
  const serverCpu = processCpuMs(target.pid) - cpuBefore;
  const databaseCpu = await database.elapsedMs();
  const requests = result.requests.total || NaN; // no request answered: no figure per request
  return {
    rps: result.requests.average,
    eventsPerSecond: result.requests.average * shape.eventsPerRequest,
    p50: result.latency.p50,
    p99: result.latency.p99,
    serverCpuMs: serverCpu / requests,
    databaseCpuMs: databaseCpu / requests,
    requests: result.requests.total,
    fiveXx: result['5xx'],
    errors: result.errors + result.non2xx - result['5xx'],
  };
}

// The peak RSS of a process, sampled from /proc every 200 ms while running.
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 200);
  }

  private sample() {
    try {
      this.peak = Math.max(this.peak, rssMegabytes(this.pid));
    } catch {
      // the process is gone: its peak is what was seen
    }
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

// An app with its own day, month and listener-day caps, high enough never to refuse the bench's load: every request
// is charged and checked against all three.
export function capApp(ctx: BenchContext, app: string): void {
  const capped = ctx.cli('apps', 'caps', app, '--day-msat', '1000000000000000', '--month-msat', '1000000000000000', '--listener-day-msat', '1000000000000');
  if (capped.status !== 0) throw new Error(capped.stderr);
}
