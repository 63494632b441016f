import { isDatabaseUnavailable } from './error.filter.js';

describe('isDatabaseUnavailable', () => {
  it.each([
    { name: 'PrismaClientInitializationError', message: "Can't reach database server" },
    { code: 'P1001', message: 'x' },
    { message: 'Raw query failed. Code: `N/A`. Message: `Server has closed the connection.`' },
    { message: 'wrapped', cause: { code: 'ECONNREFUSED' } },
    { message: 'Connection terminated unexpectedly' },
    { message: 'terminating connection due to administrator command', code: '57P01' },
  ])('recognises %p as PostgreSQL being away (503)', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([{ message: 'duplicate key value violates unique constraint', code: '23505' }, new Error('boom'), null, 'text'])(
    'does not mistake %p for an outage',
    (error) => {
      expect(isDatabaseUnavailable(error)).toBe(false);
    },
  );
});
