// Makes sure PostgreSQL and Redis answer at DATABASE_URL and REDIS_URL: starts the local server when it is
// installed, else `docker compose -f docker-compose.dev.yml up -d` when a Docker engine answers, else says exactly what to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfigOrExit } from '@splitstream/config';

interface Service {
  name: string;
  composeName: string;
  url: string;
  answers(): Promise<boolean>;
  localStart?: string[];
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

async function postgresAnswers(url: string): Promise<boolean> {
  const target = new URL(url);
  target.pathname = '/postgres';
  const client = new pg.Client({ connectionString: target.toString(), connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function localPostgresStart(): string[] | undefined {
  if (!has('pg_ctlcluster') || !existsSync('/etc/postgresql')) return undefined;
  const [version] = readdirSync('/etc/postgresql');
  return version ? ['pg_ctlcluster', '--skip-systemctl-redirect', version, 'main', 'start'] : undefined;
}

function localRedisStart(port: string): string[] | undefined {
  if (!has('redis-server')) return undefined;
  return ['redis-server', '--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', port, '--save', '', '--appendonly', 'no'];
}

function dockerAnswers(): boolean {
  return has('docker') && spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

async function waitFor(service: Service, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 2; i++) {
    if (await service.answers()) return true;
    await sleep(500);
  }
  return false;
}

async function ensure(service: Service): Promise<void> {
  if (await service.answers()) return;
  const where = new URL(service.url);
  console.log(`${service.name} does not answer at ${where.host}; trying to start it`);
  if (LOCAL_HOSTS.has(where.hostname) && service.localStart) {
    execFileSync(service.localStart[0]!, service.localStart.slice(1), { stdio: 'inherit' });
  } else if (dockerAnswers()) {
    execFileSync('docker', ['compose', '-f', 'docker-compose.dev.yml', 'up', '-d', service.composeName], { stdio: 'inherit' });
  } else {
    throw new Error(
      `${service.name} does not answer at ${where.host}, no local server is installed and no Docker engine answers.\n` +
        `Start one with \`docker compose -f docker-compose.dev.yml up -d ${service.composeName}\`, or point ${service.name === 'PostgreSQL' ? 'DATABASE_URL' : 'REDIS_URL'} at a running server.`,
    );
  }
  if (!(await waitFor(service, 30))) throw new Error(`${service.name} was started but does not answer at ${where.host}`);
  console.log(`${service.name} is up`);
}

const config = loadConfigOrExit();
const services: Service[] = [
  {
    name: 'PostgreSQL',
    composeName: 'postgres',
    url: config.DATABASE_URL,
    answers: () => postgresAnswers(config.DATABASE_URL),
    localStart: localPostgresStart(),
  },
  {
    name: 'Redis',
    composeName: 'redis',
    url: config.REDIS_URL,
    answers: () => redisAnswers(config.REDIS_URL),
    localStart: localRedisStart(new URL(config.REDIS_URL).port || '6379'),
  },
];

try {
  for (const service of services) await ensure(service);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
