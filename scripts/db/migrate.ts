// Migrations without the Prisma CLI's native engine: deploy | status | create <name> | reset.
// Keeps Prisma's standard layout (prisma/migrations/<timestamp>_<name>/migration.sql, _prisma_migrations).
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { loadConfigOrExit } from '@splitstream/config';
import { lastEnginePanic, openSchemaEngine } from './schema-engine.js';

const SCHEMA = path.resolve('prisma/schema.prisma');
const MIGRATIONS = path.resolve('prisma/migrations');
const LOCKFILE = 'migration_lock.toml';
const filters = { externalTables: [], externalEnums: [] };

async function readMigrations(): Promise<MigrationList> {
  await mkdir(MIGRATIONS, { recursive: true });
  const entries = await readdir(MIGRATIONS, { withFileTypes: true });
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const lockPath = path.join(MIGRATIONS, LOCKFILE);
  return {
    baseDir: MIGRATIONS,
    lockfile: { path: LOCKFILE, content: await readFile(lockPath, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      dirs.map(async (dir) => ({
        path: dir,
        migrationFile: {
          path: 'migration.sql',
          content: { tag: 'ok' as const, value: await readFile(path.join(MIGRATIONS, dir, 'migration.sql'), 'utf8') },
        },
      })),
    ),
  };
}

// `migrate deploy` creates a missing database too; so does this.
async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const { DATABASE_URL } = loadConfigOrExit();
  if (command === 'deploy' || command === 'create') await ensureDatabase(DATABASE_URL);
  const { engine, close } = await openSchemaEngine(DATABASE_URL, SCHEMA, () => undefined);
  try {
    const migrationsList = await readMigrations();
    switch (command) {
      case 'deploy': {
        const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters });
        console.log(appliedMigrationNames.length ? `applied: ${appliedMigrationNames.join(', ')}` : 'database is up to date');
        break;
      }
      case 'status': {
        const status = await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters });
        console.log(JSON.stringify(status, null, 2));
        if (status.history || status.failedMigrationNames.length || status.editedMigrationNames.length) process.exitCode = 1;
        break;
      }
      case 'create': {
        if (!name || !/^[a-z0-9_]+$/.test(name)) throw new Error('usage: db:create <name> (lowercase letters, digits, _)');
        const { action } = await engine.devDiagnostic({ migrationsList, filters });
        if (action.tag === 'reset') throw new Error(`the database has drifted from the migrations: ${action.reason}; run db:reset`);
        await engine.applyMigrations({ migrationsList, filters });
        const schema = { files: [{ path: SCHEMA, content: await readFile(SCHEMA, 'utf8') }] };
        const loss = await engine.evaluateDataLoss({ migrationsList, schema, filters });
        for (const w of [...loss.warnings, ...loss.unexecutableSteps]) console.warn(`warning: ${w.message}`);
        const created = await engine.createMigration({ draft: false, migrationName: name, migrationsList, schema, filters });
        if (!created.migrationScript) {
          console.log('schema and migrations agree: nothing to create');
          break;
        }
        const dir = path.join(MIGRATIONS, created.generatedMigrationName);
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, 'migration.sql'), created.migrationScript);
        await writeFile(path.join(MIGRATIONS, LOCKFILE), '# Do not edit: Prisma keeps this file.\nprovider = "postgresql"\n');
        await engine.applyMigrations({ migrationsList: await readMigrations(), filters });
        console.log(`created and applied ${created.generatedMigrationName}`);
        break;
      }
      case 'reset': {
        await engine.reset({ filter: filters });
        const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters });
        console.log(`reset; applied: ${appliedMigrationNames.join(', ') || 'none'}`);
        break;
      }
      default:
        throw new Error('usage: migrate.ts deploy | status | create <name> | reset');
    }
  } finally {
    await close();
  }
}

// Pools and engine timers would keep Node alive for up to a minute after the work is done.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    const panic = lastEnginePanic();
    if (panic) console.error(`schema engine panic: ${panic}`);
    process.exit(1);
  },
);
