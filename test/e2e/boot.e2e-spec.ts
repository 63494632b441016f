import { spawnSync } from 'node:child_process';

// The built entry points, as `npm start` and Docker run them.
const entries = ['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js'];

describe('boot with a bad environment', () => {
  it.each(entries)('%s stops with a message naming each bad variable', (entry) => {
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
});
