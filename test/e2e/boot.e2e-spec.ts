import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { freePort } from '../support/outages.js';
import { eventually, PROCESS_BOOT_MS, request } from '../support/http.js';
import { testConfig } from '../support/test-config.js';

// The built entry points, as `npm start` and Docker run them.
const entries = [
  { entry: 'dist/apps/api/src/main.js', portVariable: 'API_PORT' },
  { entry: 'dist/apps/worker/src/main.js', portVariable: 'WORKER_PORT' },
];

describe('the built processes', () => {
  it.each(entries)('$entry stops with a message naming each bad variable', ({ entry }) => {
    const result = spawnSync('node', [entry], {
      env: { ...process.env, API_PORT: 'eighty', REDIS_URL: 'http://127.0.0.1:6379', LOG_LEVEL: 'loud' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toMatch(/API_PORT: .*expected number/);
    expect(result.stderr).toMatch(/REDIS_URL: must be a redis or rediss URL/);
    expect(result.stderr).toMatch(/LOG_LEVEL: /);
  });

  const { WALLET_BACKEND: _unset, ALBY_ACCESS_TOKEN: _token, NWC_URL: _url, ...inherited } = process.env;
  const production = (entry: string, env: Record<string, string>, timeout = 20_000) =>
    spawnSync('node', [entry], { env: { ...inherited, NODE_ENV: 'production', ...env }, encoding: 'utf8', timeout });

  it.each(entries)('$entry refuses to start in production with a simulator for a wallet', ({ entry }) => {
    for (const [env, message] of [
      [{}, /WALLET_BACKEND: alby-sim is a simulator \(no real sats move\) and is refused when NODE_ENV=production/],
      [{ WALLET_BACKEND: 'nwc-sim' }, /WALLET_BACKEND: nwc-sim is a simulator/],
    ] as const) {
      const result = production(entry, env);
      expect([result.status, result.stderr]).toEqual([1, expect.stringMatching(message)]);
    }
  });

  it('the worker refuses to start without its wallet credentials; the api, which holds none, needs none', () => {
    for (const [env, message] of [
      [{ WALLET_BACKEND: 'alby' }, /ALBY_ACCESS_TOKEN: is required with WALLET_BACKEND=alby/],
      [{ WALLET_BACKEND: 'nwc' }, /NWC_URL: is required with WALLET_BACKEND=nwc/],
    ] as const) {
      const worker = production('dist/apps/worker/src/main.js', env);
      expect([worker.status, worker.stderr]).toEqual([1, expect.stringMatching(message)]);
      // The api passes configuration and goes on to start (stopped here after 3 s): no word about the wallet.
      const api = production('dist/apps/api/src/main.js', { ...env, API_PORT: '3199', METRICS_PORT: '0' }, 3_000);
      expect(api.stderr).not.toMatch(/Invalid configuration|ALBY_ACCESS_TOKEN|NWC_URL/);
    }
  });

  it.each(entries)('$entry starts and answers /health with 200', async ({ entry, portVariable }) => {
    const port = await freePort();
    // Its own queue prefix: a wallet status another test's worker published (refused credentials, say) is not its.
    const { DATABASE_URL, REDIS_URL } = testConfig();
    const QUEUE_PREFIX = `boot-${randomUUID().slice(0, 8)}`;
    const child: ChildProcess = spawn('node', [entry], {
      env: { ...process.env, DATABASE_URL, REDIS_URL, QUEUE_PREFIX, [portVariable]: String(port), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    try {
      const health = await eventually(
        () => request(`http://127.0.0.1:${port}`, '/health').catch(() => ({ status: 0, body: null })),
        (res) => res.status === 200,
        PROCESS_BOOT_MS,
      );
      expect(health.body.status).toBe('ok');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
