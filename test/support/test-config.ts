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
    QUEUE_PREFIX: 'splitstream-test',
    API_PORT: '3100',
    WORKER_PORT: '3101',
    LOG_LEVEL: 'error',
    ...overrides,
  });
}
