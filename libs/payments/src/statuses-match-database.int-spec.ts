import { PaymentMethod, PaymentStatus, PayoutStatus } from '@splitstream/ledger';
import { query } from '../../../test/support/database.js';
import { testConfig } from '../../../test/support/test-config.js';
import { VERDICT_BASES } from './payment-moves.js';
import { PAYMENT_TRANSITIONS } from './transitions.js';

// The database's CHECK lists and the TypeScript statuses are one list each: a status added on one side only fails here.
describe('statuses: the database CHECK constraints match the TypeScript lists (integration)', () => {
  const config = testConfig();

  // The quoted values of a CHECK constraint's definition, e.g. CHECK ((status = ANY (ARRAY['a'::text, 'b'::text]))).
  const checkValues = async (table: string, constraint: string): Promise<string[]> => {
    const rows = await query<{ def: string }>(
      config.DATABASE_URL,
      `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
       WHERE c.conname = $1 AND t.relname = $2 AND c.contype = 'c'`,
      [constraint, table],
    );
    expect(rows).toHaveLength(1);
    const values = [...rows[0]!.def.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"));
    expect(values.length).toBeGreaterThan(0);
    return values;
  };
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

  it.each([
    ['payment', 'payment_status_check', Object.values(PaymentStatus)],
    ['payment', 'payment_method_check', Object.values(PaymentMethod)],
    ['payout', 'payout_status_check', Object.values(PayoutStatus)],
    // A verdict ends an unknown payment: its outcomes are where the table lets an unknown payment go.
    ['payment_verdict', 'payment_verdict_outcome_check', PAYMENT_TRANSITIONS[PaymentStatus.Unknown]],
    ['payment_verdict', 'payment_verdict_basis_check', VERDICT_BASES],
  ] as const)('%s.%s lists exactly the TypeScript values', async (table, constraint, values) => {
    const database = await checkValues(table, constraint);
    expect(sorted(database)).toEqual(sorted(values as readonly string[]));
    expect(database).toHaveLength(new Set(database).size);
  });
});
