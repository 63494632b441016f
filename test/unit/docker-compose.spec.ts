import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { WORKER_NODE_FLAGS } from '@splitstream/config';

// No Docker engine runs on the machines that test this project, so the compose file is checked as data.
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, { ports?: string[]; environment?: Record<string, string>; command?: string[] | string }>;
  'x-app': { environment: Record<string, string> };
};

describe('docker-compose.yml', () => {
  it('publishes ports on 127.0.0.1 only, in the service file and the development one', () => {
    const dev = parse(readFileSync(new URL('../../docker-compose.dev.yml', import.meta.url), 'utf8')) as typeof compose;
    for (const file of [compose, dev]) {
      const published = Object.values(file.services).flatMap((s) => s.ports ?? []);
      expect(published.length).toBeGreaterThan(0);
      for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('does not publish PostgreSQL, Redis or the simulator (its admin routes change what it pays)', () => {
    for (const name of ['postgres', 'redis', 'alby-sim']) expect(compose.services[name]!.ports).toBeUndefined();
  });

  it('takes the PostgreSQL and Redis passwords from .env, required, never a default', () => {
    expect(compose.services.postgres!.environment!.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}');
    expect(compose.services.redis!.command).toEqual(expect.arrayContaining(['--requirepass', '${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}']));
    expect(compose['x-app'].environment.DATABASE_URL).toContain(':${APP_DB_PASSWORD:?');
    expect(compose['x-app'].environment.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?/);
    const env = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    expect(env).toMatch(/^# POSTGRES_PASSWORD=$/m);
    expect(env).toMatch(/^# APP_DB_PASSWORD=$/m);
    expect(env).toMatch(/^# REDIS_PASSWORD=$/m);
  });
});

describe('docker-compose.yml: production shape', () => {
  const app = compose['x-app'] as unknown as { build: { target: string }; environment: Record<string, string> };

  it('runs the api and worker as the least-privileged role and migrations as the owner', () => {
    expect(app.environment.DATABASE_URL).toMatch(/^postgresql:\/\/splitstream_app:\$\{APP_DB_PASSWORD:\?/);
    const migrate = compose.services.migrate as unknown as { build: { target: string }; environment: Record<string, string> };
    expect(migrate.build.target).toBe('migrate');
    expect(migrate.environment.DATABASE_URL).toMatch(/^postgresql:\/\/postgres:\$\{POSTGRES_PASSWORD:\?/);
    const postgres = compose.services.postgres as unknown as { volumes: string[]; environment: Record<string, string> };
    expect(postgres.volumes).toContain('./docker/postgres:/docker-entrypoint-initdb.d:ro');
    expect(postgres.environment.APP_DB_PASSWORD).toBe('${APP_DB_PASSWORD:?set APP_DB_PASSWORD in .env}');
  });

  it('starts no simulator unless asked for with its profile, and nothing waits on one', () => {
    expect((compose.services['alby-sim'] as unknown as { profiles: string[] }).profiles).toEqual(['simulator']);
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'alby-sim') continue;
      expect(JSON.stringify((service as { depends_on?: unknown }).depends_on ?? {})).not.toContain('alby-sim');
    }
    expect(app.build.target).toBe('runtime');
  });
});

describe('docker-compose.yml: wallet credentials', () => {
  // Merge keys resolved, as compose resolves them.
  const merged = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string> }>;
  };

  it('gives the wallet credentials to the worker only: the internet-facing api holds none', () => {
    for (const name of ['api', 'migrate', 'alby-sim']) {
      const env = merged.services[name]!.environment ?? {};
      for (const secret of ['ALBY_ACCESS_TOKEN', 'NWC_URL']) expect([name, secret, env[secret]]).toEqual([name, secret, undefined]);
    }
    expect(merged.services.worker!.environment).toMatchObject({ ALBY_ACCESS_TOKEN: '${ALBY_ACCESS_TOKEN:-}', NWC_URL: '${NWC_URL:-}' });
    expect(merged.services.worker!.environment!.DATABASE_URL).toMatch(/^postgresql:\/\/splitstream_app:/);
  });

  it('starts the worker with the heap limit that bounds its memory (WORKER_NODE_FLAGS), as npm start does', () => {
    expect(compose.services.worker!.command).toEqual(['node', ...WORKER_NODE_FLAGS, 'dist/apps/worker/src/main.js']);
  });
});
