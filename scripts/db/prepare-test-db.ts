// Migrates the test database and empties it, so the suite can run again and again on the same machine.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { testDatabaseUrl } from '../../test/support/test-config.js';

const databaseUrl = testDatabaseUrl();
execFileSync('npx', ['tsx', 'scripts/db/migrate.ts', 'deploy'], {
  env: { ...process.env, DATABASE_URL: databaseUrl },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
try {
  const { rows } = await client.query<{ tablename: string }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
  );
  if (rows.length) await client.query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
} finally {
  await client.end();
}
