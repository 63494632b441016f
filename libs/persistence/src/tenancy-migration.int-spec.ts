import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { testDatabaseUrl } from '../../../test/support/test-config.js';

const MIGRATIONS = path.resolve('prisma/migrations');
const TENANCY = '20261202090000_tenancy';
const migrations = readdirSync(MIGRATIONS, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

// The upgrade of a database where app B had already planted its titles, url and recipient name over app A's (issue
// 20, point 4): the shared rows are split per app, and A's copies must not carry what B wrote. Migrations are
// applied as plain SQL to a scratch database, up to the tenancy one, then the attack data, then the rest.
describe('the tenancy migration: what another app planted before the upgrade stays that app’s (integration)', () => {
  const scratchUrl = (() => {
    const url = new URL(testDatabaseUrl());
    url.pathname = `${url.pathname}_tenancy_migration`;
    return url;
  })();
  const adminUrl = (() => {
    const url = new URL(testDatabaseUrl());
    url.pathname = '/postgres';
    return url.toString();
  })();
  const scratchName = scratchUrl.pathname.slice(1);
  let db: pg.Client;

  const onAdmin = async (sql: string) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  const apply = async (names: string[]) => {
    for (const name of names) await db.query(readFileSync(path.join(MIGRATIONS, name, 'migration.sql'), 'utf8'));
  };

  beforeAll(async () => {
    await onAdmin(`DROP DATABASE IF EXISTS "${scratchName}"`);
    await onAdmin(`CREATE DATABASE "${scratchName}"`);
    db = new pg.Client({ connectionString: scratchUrl.toString() });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await onAdmin(`DROP DATABASE IF EXISTS "${scratchName}"`);
  });

  it("gives the shared titles, url, ids and recipient name only to the app that wrote them last; A's rows carry none of B's", async () => {
    expect(migrations).toContain(TENANCY);
    await apply(migrations.filter((m) => m < TENANCY));

    // Episode ep-b: A listened first, then B overwrote the shared episode row and the recipient name. A's balance
    // changed last all the same (a payment), so "changed last" cannot be what decides.
    // Episode ep-a: B listened first, A last: A wrote what is stored, and keeps it.
    await db.query(`
      INSERT INTO recipient (id, address, name) VALUES (1, 'node-1', 'Claim your sats: phish.example');
      INSERT INTO listening_event (id, app_id, event_id, payload, amount_msat, applied_at) VALUES
        (1, 'app-a', 'a-1', '{"feedGuid":"feed","itemGuid":"ep-b","feedTitle":"A Show"}', 1000, '2026-12-01 10:00'),
        (2, 'app-b', 'b-1', '{"feedGuid":"feed","itemGuid":"ep-b","feedTitle":"=HYPERLINK(1)"}', 16, '2026-12-01 11:00'),
        (3, 'app-b', 'b-2', '{"feedGuid":"feed","itemGuid":"ep-a","feedTitle":"B Show"}', 16, '2026-12-01 11:00'),
        (4, 'app-a', 'a-2', '{"feedGuid":"feed","itemGuid":"ep-a","feedTitle":"A Show"}', 1000, '2026-12-01 12:00');
      INSERT INTO balance (id, recipient_id, app_id, feed_guid, item_guid, name, accrued_msat, owed_msat, updated_at) VALUES
        (1, 1, 'app-a', 'feed', 'ep-b', 'Host', 1000, 1000, '2026-12-01 13:00'),
        (2, 1, 'app-b', 'feed', 'ep-b', 'Claim your sats: phish.example', 16, 16, '2026-12-01 11:00'),
        (3, 1, 'app-b', 'feed', 'ep-a', 'Claim your sats: phish.example', 16, 16, '2026-12-01 11:00'),
        (4, 1, 'app-a', 'feed', 'ep-a', 'Host', 1000, 1000, '2026-12-01 12:00');
      INSERT INTO allocation (event_id, balance_id, amount_msat) VALUES (1, 1, 1000), (2, 2, 16), (3, 3, 16), (4, 4, 1000);
      INSERT INTO episode (feed_guid, item_guid, feed_title, item_title, feed_url, feed_id, item_id) VALUES
        ('feed', 'ep-b', '=HYPERLINK(1)', 'Claim now', 'https://phish.example/claim-your-sats', 666, 667),
        ('feed', 'ep-a', 'A Show', 'Episode A', 'https://a.example/feed', 1, 2);
      -- A second recipient, only A's: its name is A's whatever the order.
      INSERT INTO recipient (id, address, name) VALUES (2, 'node-2', 'Guest');
      INSERT INTO balance (id, recipient_id, app_id, feed_guid, item_guid, name, accrued_msat, owed_msat) VALUES
        (5, 2, 'app-a', 'feed', 'ep-a', 'Guest', 10, 10);
    `);
    // Last writer of recipient 1: event 4 (A). Make B the last writer of the name by a later event of its own.
    await db.query(`
      INSERT INTO listening_event (id, app_id, event_id, payload, amount_msat, applied_at) VALUES
        (5, 'app-b', 'b-3', '{"feedGuid":"feed","itemGuid":"ep-c"}', 16, '2026-12-01 12:30');
      INSERT INTO balance (id, recipient_id, app_id, feed_guid, item_guid, name, accrued_msat, owed_msat, updated_at) VALUES
        (6, 1, 'app-b', 'feed', 'ep-c', 'Claim your sats: phish.example', 16, 16, '2026-12-01 12:30');
      INSERT INTO allocation (event_id, balance_id, amount_msat) VALUES (5, 6, 16);
    `);

    await apply(migrations.filter((m) => m >= TENANCY));

    const episodes = await db.query(
      `SELECT app_id, item_guid, feed_title, item_title, feed_url, feed_id::text, item_id::text FROM episode ORDER BY item_guid, app_id`,
    );
    expect(episodes.rows).toEqual([
      { app_id: 'app-a', item_guid: 'ep-a', feed_title: 'A Show', item_title: 'Episode A', feed_url: 'https://a.example/feed', feed_id: '1', item_id: '2' },
      { app_id: 'app-b', item_guid: 'ep-a', feed_title: '', item_title: '', feed_url: '', feed_id: null, item_id: null },
      { app_id: 'app-a', item_guid: 'ep-b', feed_title: '', item_title: '', feed_url: '', feed_id: null, item_id: null },
      {
        app_id: 'app-b',
        item_guid: 'ep-b',
        feed_title: '=HYPERLINK(1)',
        item_title: 'Claim now',
        feed_url: 'https://phish.example/claim-your-sats',
        feed_id: '666',
        item_id: '667',
      },
    ]);
    const names = await db.query(`SELECT recipient_id::text, app_id, name FROM app_recipient ORDER BY recipient_id, app_id`);
    expect(names.rows).toEqual([
      { recipient_id: '1', app_id: 'app-a', name: 'Host' },
      { recipient_id: '1', app_id: 'app-b', name: 'Claim your sats: phish.example' },
      { recipient_id: '2', app_id: 'app-a', name: 'Guest' },
    ]);
  });
});
