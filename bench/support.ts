// Shared pieces of the benchmarks: processes, readiness, memory, a fresh database.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

// BENCH_CPU_PROF=<dir>: every process writes a V8 CPU profile there (open it in Chrome DevTools).
const profiling = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];

export function startProcess(entry: string, env: Record<string, string>, args: string[] = []): ChildProcess {
  return spawn('node', [...profiling, ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

export async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
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
  return { api: base, bare: base + 1, worker: base + 2, worker2: base + 3, sim: base + 4, anchor: base + 5, spare: base + 6 };
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
