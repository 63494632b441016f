import { spawnSync } from 'node:child_process';
import { query } from '../support/database.js';
import { type Stack, startStack } from '../support/stack.js';

// The invariant check, as a command (npm run ledger:check) and as an endpoint, against a real database.
describe('ledger check', () => {
  let stack: Stack;
  const cli = () =>
    spawnSync('node', ['dist/apps/cli/src/main.js', 'ledger', 'check'], {
      env: { ...process.env, DATABASE_URL: stack.config.DATABASE_URL },
      encoding: 'utf8',
    });

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
  });
  afterAll(() => stack.close());

  it('passes on a consistent ledger and fails, naming the problem, when money is missing', async () => {
    const good = cli();
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, problems: [] });
    expect((await stack.http.get('/v1/ledger/check')).status).toBe(200);

    // An applied event whose money never reached the ledger.
    await query(
      stack.config.DATABASE_URL,
      `INSERT INTO listening_event (app_id, event_id, payload, amount_msat, applied_at) VALUES ('default', 'lost', '{}', 5000, now())`,
    );
    const bad = cli();
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).problems).toEqual(['events are worth 5000 msat but 0 msat accrued']);
    const endpoint = await stack.http.get('/v1/ledger/check');
    expect(endpoint).toMatchObject({
      status: 500,
      body: { error: 'invariant_broken', message: 'events are worth 5000 msat but 0 msat accrued', ok: false, problems: ['events are worth 5000 msat but 0 msat accrued'] },
    });
  });

  it('the database itself refuses a balance that does not add up', async () => {
    await query(stack.config.DATABASE_URL, `INSERT INTO recipient (address) VALUES ('02${'0'.repeat(64)}')`);
    await expect(
      query(
        stack.config.DATABASE_URL,
        `INSERT INTO balance (recipient_id, feed_guid, item_guid, accrued_msat, owed_msat, paid_msat) VALUES (1, 'f', 'i', 10, 5, 4)`,
      ),
    ).rejects.toThrow(/balance_amounts_check/);
  });
});
