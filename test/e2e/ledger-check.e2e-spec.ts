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

    // An applied event whose money never reached the ledger (nor its day).
    await query(
      stack.config.DATABASE_URL,
      `INSERT INTO listening_event (app_id, event_id, payload, amount_msat, applied_at) VALUES ('default', 'lost', '{}', 5000, now())`,
    );
    const bad = cli();
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).problems).toEqual([
      'events are worth 5000 msat but 0 msat accrued',
      'listening events are worth 5000 msat but their days (listening_day) 0 msat',
    ]);
    const endpoint = await stack.http.get('/v1/ledger/check');
    expect(endpoint).toMatchObject({
      status: 500,
      body: {
        error: 'invariant_broken',
        message: 'events are worth 5000 msat but 0 msat accrued; listening events are worth 5000 msat but their days (listening_day) 0 msat',
        ok: false,
        problems: ['events are worth 5000 msat but 0 msat accrued', 'listening events are worth 5000 msat but their days (listening_day) 0 msat'],
      },
    });
  });

  it('proves payments: catches a double payment planted in the database, naming the recipient and its payments', async () => {
    const db = (sql: string) => query(stack.config.DATABASE_URL, sql);
    await db(`DELETE FROM listening_event WHERE event_id = 'lost'`);
    // A consistent paid history: 10 sats listened, accrued and paid by one succeeded payment.
    const [recipient] = await db(`INSERT INTO recipient (address) VALUES ('03${'1'.repeat(64)}') RETURNING id`);
    await db(`INSERT INTO app_recipient (recipient_id, app_id) VALUES (${recipient.id}, '')`);
    await db(`INSERT INTO listening_event (app_id, event_id, payload, amount_msat, applied_at) VALUES ('default', 'paid-once', '{}', 10000, now())`);
    const [balance] = await db(
      `INSERT INTO balance (recipient_id, feed_guid, item_guid, accrued_msat, paid_msat) VALUES (${recipient.id}, 'f', 'i', 10000, 10000) RETURNING id`,
    );
    await db(`INSERT INTO listening_day (recipient_id, day, balance_id, listened_msat) VALUES (${recipient.id}, current_date, ${balance.id}, 10000)`);
    const [payout] = await db(`INSERT INTO payout (trigger, status) VALUES ('manual', 'completed') RETURNING id`);
    const pay = async (reference: string, hash: string) => {
      const paid =
        await db(`INSERT INTO payment (payout_id, recipient_id, balance_id, app_id, reference, amount_sats, attempt, status, custom_records, destination, payment_hash)
          VALUES (${payout.id}, ${recipient.id}, ${balance.id}, '', '${reference}', 10, 1, 'succeeded', '{}', '03${'1'.repeat(64)}', '${hash}') RETURNING id`);
      await db(`INSERT INTO payment_part (payment_id, balance_id, msat) VALUES (${paid[0].id}, ${balance.id}, 10000)`);
      return paid;
    };
    const [first] = await pay('first', 'a'.repeat(64));
    expect(JSON.parse(cli().stdout)).toMatchObject({ ok: true, problems: [] });

    // The same payment hash paid again is refused by the database itself.
    await expect(pay('same-hash', 'a'.repeat(64))).rejects.toThrow(/payment_succeeded_hash_key/);
    // A second payment of the same money, under another hash: the books say 10 sats paid, the payments 20.
    const [second] = await pay('second', 'b'.repeat(64));
    const bad = cli();
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).problems).toEqual([
      'succeeded payments paid 20000 msat, balances say 10000 msat',
      `recipient ${recipient.id}: balances say 10000 msat paid, its succeeded payments 20000 msat (latest payments: ${second.id}, ${first.id})`,
      `balance ${balance.id}: 10000 msat paid, its parts of succeeded payments 20000 msat`,
    ]);
    await db(`DELETE FROM payment_part WHERE payment_id = ${second.id}`);
    await db(`DELETE FROM payment WHERE id = ${second.id}`);
    expect(cli().status).toBe(0);

    // A payment recorded for another app than the balance it pays (its app's runs list would count it).
    await db(`UPDATE payment SET app_id = 'other-app' WHERE id = ${first.id}`);
    const misfiled = cli();
    expect(misfiled.status).toBe(1);
    expect(JSON.parse(misfiled.stdout).problems).toEqual([`payment ${first.id} is recorded for app "other-app" but pays a balance of app ""`]);
    await db(`UPDATE payment SET app_id = '' WHERE id = ${first.id}`);
    expect(cli().status).toBe(0);
  });

  it('finds listening days filed under another recipient, and listening_day_rebuild() makes them from the allocations again', async () => {
    const db = (sql: string) => query(stack.config.DATABASE_URL, sql);
    // The paid history above, with its allocation (that test wrote its day by hand).
    const [balance] = await db(`SELECT id, recipient_id FROM balance`);
    await db(`INSERT INTO allocation (event_id, balance_id, amount_msat) SELECT id, ${balance.id}, 10000 FROM listening_event WHERE event_id = 'paid-once'`);
    expect(JSON.parse(cli().stdout)).toMatchObject({ ok: true, problems: [] });

    await db(`UPDATE listening_day SET recipient_id = recipient_id + 1000`);
    const misfiled = cli();
    expect(misfiled.status).toBe(1);
    expect(JSON.parse(misfiled.stdout).problems).toEqual(["1 listening days (listening_day) name a recipient other than their balance's"]);
    await db(`UPDATE listening_day SET listened_msat = 1`);
    await db('SELECT listening_day_rebuild()');
    expect(JSON.parse(cli().stdout)).toMatchObject({ ok: true, problems: [] });
    expect(await db('SELECT recipient_id, balance_id, listened_msat FROM listening_day')).toEqual([
      { recipient_id: balance.recipient_id, balance_id: balance.id, listened_msat: '10000' },
    ]);
  });

  it('the database itself refuses a balance that does not add up', async () => {
    const [recipient] = await query(stack.config.DATABASE_URL, `INSERT INTO recipient (address) VALUES ('02${'0'.repeat(64)}') RETURNING id`);
    await expect(
      query(
        stack.config.DATABASE_URL,
        `INSERT INTO balance (recipient_id, feed_guid, item_guid, accrued_msat, owed_msat, paid_msat) VALUES (${recipient.id}, 'f', 'i', 10, 5, 4)`,
      ),
    ).rejects.toThrow(/balance_amounts_check/);
  });
});
