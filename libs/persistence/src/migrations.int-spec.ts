import { spawnSync } from 'node:child_process';
import { testDatabaseUrl } from '../../../test/support/test-config.js';

describe('migrations (Prisma schema engine, WebAssembly)', () => {
  it('reports the test database in step with prisma/migrations, in the standard _prisma_migrations history', () => {
    const result = spawnSync('npx', ['tsx', 'scripts/db/migrate.ts', 'status'], {
      env: { ...process.env, DATABASE_URL: testDatabaseUrl() },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status).toEqual({ editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
  });
});
