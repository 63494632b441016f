import type { Prisma, SqlClient } from '@splitstream/persistence';
import pg from 'pg';

// Empties every table but the migration history.
export async function truncateAll(databaseUrl: string): Promise<void> {
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
}

export async function query<T extends pg.QueryResultRow>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

// A Prisma transaction as the books' per-event movements (accrue, allocate) take a `pg` client: tests that seed
// inside one transaction with Prisma's models hand it through this. Rows come back as `pg` gives them.
export const asSqlClient = (tx: Prisma.TransactionClient): SqlClient => ({
  query: async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => ({
    rows: (await tx.$queryRawUnsafe<Record<string, unknown>[]>(text, ...values)).map(
      (row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? String(value) : value])) as R,
    ),
  }),
});
