import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { freePort } from '../support/outages.js';
import { eventually, request } from '../support/http.js';
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

  it.each(entries)('$entry refuses to start in production without a real wallet: no simulator, no missing credentials', ({ entry }) => {
    for (const [env, message] of [
      [{}, /WALLET_BACKEND: alby-sim is a simulator \(no real sats move\) and is refused when NODE_ENV=production/],
      [{ WALLET_BACKEND: 'nwc-sim' }, /WALLET_BACKEND: nwc-sim is a simulator/],
      [{ WALLET_BACKEND: 'alby' }, /ALBY_ACCESS_TOKEN: is required with WALLET_BACKEND=alby/],
      [{ WALLET_BACKEND: 'nwc' }, /NWC_URL: is required with WALLET_BACKEND=nwc/],
    ] as const) {
      const { WALLET_BACKEND: _unset, ALBY_ACCESS_TOKEN: _token, NWC_URL: _url, ...inherited } = process.env;
      const result = spawnSync('node', [entry], { env: { ...inherited, NODE_ENV: 'production', ...env }, encoding: 'utf8', timeout: 20_000 });
      expect([result.status, result.stderr]).toEqual([1, expect.stringMatching(message)]);
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
        20_000,
      );
      expect(health.body.status).toBe('ok');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
