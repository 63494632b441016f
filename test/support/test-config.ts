import { type AppConfig, loadConfig, parseConfig } from '@splitstream/config';

// Tests never touch development data: the configured database with a `_test` suffix, and their own queue prefix.
export function testDatabaseUrl(): string {
  const url = new URL(loadConfig().DATABASE_URL);
  url.pathname = `${url.pathname}_test`;
  return url.toString();
}

export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  const { REDIS_URL } = loadConfig();
  return parseConfig({
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL,
    // Per test database, so runs against different databases (DATABASE_URL) never take each other's jobs.
    QUEUE_PREFIX: `test-${new URL(testDatabaseUrl()).pathname.slice(1)}`.slice(0, 32),
    API_PORT: '3100',
    WORKER_PORT: '3101',
    // /metrics listeners off unless a test asks for them (startStack does, on free ports): tests run several apps.
    METRICS_PORT: '0',
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'error',
    ...overrides,
  });
}
