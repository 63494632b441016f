import { testConfig } from '../../../test/support/test-config.js';
import { PrismaService } from './prisma.service.js';
import { SqlPool } from './sql-pool.service.js';

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
