import { once } from 'node:events';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { eventually, request } from '../support/http.js';
import { freePort } from '../support/outages.js';
import { testDatabaseUrl } from '../support/test-config.js';

// Every `sh` block of the README, in order, as one shell script, except those marked `<!-- not run: why -->`.
export function readmeExamples(readme: string): { script: string; skipped: string[] } {
  const skipped: string[] = [];
  const blocks: string[] = [];
  for (const match of readme.matchAll(/(?:<!-- not run: ([^\n]*?) -->\n)?```sh\n([\s\S]*?)```/g)) {
    if (match[1] !== undefined) skipped.push(match[1]);
    else blocks.push(match[2]!);
  }
  return { script: blocks.join('\n'), skipped };
}

// The README's examples, pasted in order into bash on a fresh `npm start` (its own empty database and free ports,
// substituted for the README's 3000 and 3002): every command must succeed, every curl must get a 2xx.
describe('README examples (e2e)', () => {
  let child: ChildProcess | undefined;
  const database = new URL(testDatabaseUrl());
  database.pathname = `${database.pathname}_readme`;

  // npm start in its own process group, until the api, the worker and the simulator answer; its output so far.
  const startService = async (env: NodeJS.ProcessEnv, ports: number[]): Promise<() => string> => {
    let output = '';
    child = spawn('npm', ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    const answers = (port: number) =>
      request(`http://127.0.0.1:${port}`, '/health').then(
        (r) => r.status,
        () => 0,
      );
    await eventually(
      () => Promise.all(ports.map(answers)),
      (statuses) => statuses.every((status) => status === 200),
      150_000,
    ).catch((error: Error) => {
      // Its output is shown only if it never comes up.
      throw new Error(`${error.message}\nnpm start said:\n${output}`);
    });
    return () => output;
  };

  afterAll(() => {
    try {
      process.kill(-child!.pid!, 'SIGKILL');
    } catch {
      // nothing left
    }
  });

  it('finds the examples and the reasons for the few it does not run', () => {
    const { script, skipped } = readmeExamples(readFileSync('README.md', 'utf8'));
    expect(script).toContain('keys create');
    expect(script).toContain('/v1/events');
    expect(script).toContain('/statement');
    expect(skipped.length).toBeLessThanOrEqual(3);
  });

  it('all succeed when run in order on a fresh npm start', async () => {
    const admin = new pg.Client({ connectionString: Object.assign(new URL(database), { pathname: '/postgres' }).toString() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database.pathname.slice(1)}" WITH (FORCE)`);
    await admin.end();

    const [api, worker, sim] = [await freePort(), await freePort(), await freePort()];
    const env = {
      ...process.env,
      DATABASE_URL: database.toString(),
      QUEUE_PREFIX: `ssreadme-${randomUUID().slice(0, 8)}`,
      API_PORT: String(api),
      WORKER_PORT: String(worker),
      SIM_PORT: String(sim),
      LOG_LEVEL: 'error',
    };
    const gitStatus = () => spawnSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).stdout;
    const before = gitStatus();
    await startService(env, [api, worker, sim]);
    const { script } = readmeExamples(readFileSync('README.md', 'utf8'));
    const ported = script.replaceAll('localhost:3000', `localhost:${api}`).replaceAll('127.0.0.1:3002', `127.0.0.1:${sim}`);
    // A failing curl fails the script (--fail-with-body: it still shows the error body); so does any command.
    const preamble = 'set -euo pipefail\ncurl() { command curl --fail-with-body --silent --show-error "$@"; }\n';
    const result = spawnSync('bash', ['-c', preamble + ported], { env, encoding: 'utf8', timeout: 120_000 });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    // What the tour did, seen in its output: the key worked, the event was accepted and paid, the CSV came back.
    expect(result.stdout).toContain('"accepted":1');
    expect(result.stdout).toContain('"status":"succeeded"');
    // The Lightning address of the example, resolved at the simulator npm start maps pods.invalid to, and paid.
    expect(result.stdout).toMatch(
      /"type":"lnaddress","address":"alice@pods\.invalid",[^}]*"owedMsat":"0","inFlightMsat":"0","parkedMsat":"0","paidMsat":"20000"/,
    );
    expect(result.stdout).toMatch(/row,feed_guid,feed_title,item_guid[^\n]*\nkeysend,917393e3-1b1e-5cef-ace4-edaa54e1f810,/);
    expect(result.stdout).toContain('"ok":true');
    // npm start (install, client generation, migrations, build) and the examples leave the checkout as it was.
    expect(gitStatus()).toBe(before);

    // A second npm start with nothing changed installs, generates and builds nothing, and comes up.
    process.kill(-child!.pid!, 'SIGTERM');
    await once(child!, 'exit');
    const again = await startService(env, [api, worker, sim]);
    for (const step of ['dependencies', 'the Prisma client', 'the build']) expect(again()).toContain(`${step}: up to date`);
    expect(again()).not.toMatch(/: (inputs changed|not stamped|asked to run)/);
  }, 360_000);
});
