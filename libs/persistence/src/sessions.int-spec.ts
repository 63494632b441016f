import pg from 'pg';
import { testConfig } from '../../../test/support/test-config.js';
import { PrismaService } from './prisma.service.js';
import { inTransaction, SqlPool } from './sql-pool.service.js';

// The service's database sessions, as PostgreSQL sees them: in UTC, and no JIT compilation of its short reads.
describe('database sessions (integration)', () => {
  const config = testConfig();
  const prisma = new PrismaService(config);
  const pool = new SqlPool(config);
  afterAll(async () => {
    await prisma.$disconnect();
    await pool.end();
  });

  it('runs in UTC with jit off, through Prisma and through the plain pool', async () => {
    const settings = [{ zone: 'UTC', jit: 'off' }];
    expect(await prisma.$queryRaw`SELECT current_setting('TimeZone') AS zone, current_setting('jit') AS jit`).toEqual(settings);
    expect((await pool.query(`SELECT current_setting('TimeZone') AS zone, current_setting('jit') AS jit`)).rows).toEqual(settings);
  });
});

// The raw pool's transactions (intake's group commit, the worker's apply): READ COMMITTED whatever the session's
// default, each statement bounded when asked, committed on return, and on a throw nothing kept and the connection
// discarded.
describe('inTransaction (integration)', () => {
  const config = testConfig();
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 1 });
  afterAll(() => pool.end());

  it('commits what its work did, and on a throw keeps nothing and drops the connection', async () => {
    const table = `in_transaction_${process.pid}`;
    await pool.query(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (n int)`);
    try {
      const backend = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const before = await backend();
      await inTransaction(pool, (client) => client.query(`INSERT INTO ${table} VALUES (1)`));
      expect(await backend()).toBe(before);
      await expect(
        inTransaction(pool, async (client) => {
          await client.query(`INSERT INTO ${table} VALUES (2)`);
          throw new Error('work failed');
        }),
      ).rejects.toThrow('work failed');
      expect((await pool.query(`SELECT n FROM ${table} ORDER BY n`)).rows).toEqual([{ n: 1 }]);
      expect(await backend()).not.toBe(before);
    } finally {
      await pool.query(`DROP TABLE ${table}`);
    }
  });

  it('runs READ COMMITTED whatever the session default, and bounds each statement and wait only inside it', async () => {
    await pool.query(`SET default_transaction_isolation TO 'serializable'`);
    const seen = await inTransaction(pool, async (client) => (await client.query(`SELECT current_setting('transaction_isolation') AS level`)).rows[0]);
    expect(seen).toEqual({ level: 'read committed' });
    const bounded = await inTransaction(
      pool,
      async (client) =>
        (await client.query(`SELECT current_setting('statement_timeout') AS timeout, current_setting('idle_in_transaction_session_timeout') AS idle`)).rows[0],
      {
        statementTimeoutMs: 100,
      },
    );
    expect(bounded).toEqual({ timeout: '100ms', idle: '100ms' });
    expect((await pool.query(`SELECT current_setting('statement_timeout') AS timeout`)).rows).toEqual([{ timeout: '0' }]);
    await expect(inTransaction(pool, (client) => client.query('SELECT pg_sleep(2)'), { statementTimeoutMs: 100 })).rejects.toMatchObject({ code: '57014' });
  });
});
