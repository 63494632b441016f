// Migrates the test database and empties it, so the suite can run again and again on the same machine.
import { execFileSync } from 'node:child_process';
import { truncateAll } from '../../test/support/database.js';
import { testDatabaseUrl } from '../../test/support/test-config.js';

const databaseUrl = testDatabaseUrl();
execFileSync('npx', ['tsx', 'scripts/db/migrate.ts', 'deploy'], {
  env: { ...process.env, DATABASE_URL: databaseUrl },
  stdio: ['ignore', 'ignore', 'inherit'],
});
await truncateAll(databaseUrl);
