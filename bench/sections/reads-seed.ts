// The reads bench's data, seeded in SQL into the service's own tables (their real constraints and indexes): events
// of several apps and feeds, four allocations each, one recipient with a fifth of all allocations (a platform's
// split on the busiest shows), half of the listening paid by succeeded payments, some recipients parked with a
// failed payment each, a small backlog awaiting and a few events set aside. The books balance (the ledger check
// holds). Ids are computed, not looked up, so each table is one INSERT ... SELECT over generate_series.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ReadsShape {
  events: number;
  apps: number;
  feeds: number;
  hotFeeds: number; // the first feeds: one event in five, each paying the hot recipient
  itemsPerFeed: number;
  payouts: number;
}

export const readsShape = (events: number): ReadsShape => ({ events, apps: 4, feeds: 200, hotFeeds: 10, itemsPerFeed: 50, payouts: 20 });

export const readsApp = (n: number) => `reads-app-${n}`;
export const HOT_RECIPIENT_ID = 1n;
const EVENT_MSAT = 40_000; // 40 sats: one minute at 40 sats a minute
const SHARE_MSAT = EVENT_MSAT / 4;
const SPAN_DAYS = 30;

export interface SeededReads {
  seconds: number;
  allocations: number;
}

// Per event i (1..events), as SQL over a column i: its app, feed and episode, whether applied, paid or set aside.
function eventSql(s: ReadsShape) {
  // Each choice scrambles i by its own prime modulus, so apps, feeds and episodes combine freely (every balance is used).
  const pick = (multiplier: number, prime: number, n: number) => `((i * ${multiplier}) % ${prime}) % ${n}`;
  const feed = `(CASE WHEN i % 5 = 0 THEN ${pick(7919, 1_000_003, s.hotFeeds)} ELSE ${s.hotFeeds} + ${pick(104_729, 999_983, s.feeds - s.hotFeeds)} END)`;
  return {
    app: `(1 + ${pick(15_485_863, 1_000_033, s.apps)})`,
    feed,
    item: pick(32_452_843, 999_979, s.itemsPerFeed),
    applied: `(i <= ${s.events - Math.ceil(s.events / 100)})`,
    paid: `(i <= ${Math.floor(s.events / 2)})`,
    setAside: `(i > ${s.events - Math.ceil(s.events / 100)} AND i % 20 = 0)`,
    receivedAt: `(timestamp '2026-11-01' + (i::float8 / ${s.events} * ${SPAN_DAYS}) * interval '1 day')`,
  };
}

// The balance of (recipient slot k, app, feed, item): one id per combination, 1-based.
const balanceIdSql = (s: ReadsShape, feed: string, item: string, k: string, app: string) =>
  `(1 + ((((${feed}) * ${s.itemsPerFeed} + (${item})) * 4 + (${k})) * ${s.apps} + (${app}) - 1))`;
// Recipient of slot k on a feed: the hot recipient takes slot 0 on the hot feeds.
const recipientIdSql = (s: ReadsShape, feed: string, k: string) =>
  `(CASE WHEN (${feed}) < ${s.hotFeeds} AND (${k}) = 0 THEN 1 ELSE 2 + (${feed}) * 4 + (${k}) END)`;
// Parked: slot 3 of every tenth feed, for app 1.
const parkedSql = (feed: string, k: string, app: string) => `((${k}) = 3 AND (${feed}) % 10 = 5 AND (${app}) = 1)`;

// The allocations and their days: the tables the worker writes per event. Kept in one function, to follow any redesign.
async function seedAllocations(client: pg.Client, s: ReadsShape): Promise<void> {
  const e = eventSql(s);
  await client.query(`
    INSERT INTO allocation (id, event_id, balance_id, amount_msat, payment_id)
    SELECT (i - 1) * 4 + k + 1, i, b, ${SHARE_MSAT}, CASE WHEN ${e.paid} THEN b END
    FROM generate_series(1::bigint, ${s.events}) i CROSS JOIN generate_series(0, 3) k
    CROSS JOIN LATERAL (SELECT ${balanceIdSql(s, e.feed, e.item, 'k', e.app)} AS b) bal
    WHERE ${e.applied}`);
  // What the worker adds to listening_day with them: per balance and UTC day, the sum of its allocations.
  await client.query(`
    INSERT INTO listening_day (recipient_id, day, balance_id, listened_msat)
    SELECT ${recipientIdSql(s, e.feed, 'k')}, (${e.receivedAt})::date, b, SUM(${SHARE_MSAT}) FROM generate_series(1::bigint, ${s.events}) i
    CROSS JOIN generate_series(0, 3) k CROSS JOIN LATERAL (SELECT ${balanceIdSql(s, e.feed, e.item, 'k', e.app)} AS b) bal
    WHERE ${e.applied} GROUP BY 1, 2, 3`);
}

async function seedEvents(client: pg.Client, s: ReadsShape): Promise<void> {
  const e = eventSql(s);
  await client.query(`
    INSERT INTO listening_event (id, app_id, event_id, payload, amount_msat, received_at, applied_at, apply_error)
    SELECT i, 'reads-app-' || ${e.app}, 'e-' || i,
           jsonb_build_object('id', 'e-' || i, 'feedGuid', 'feed-' || ${e.feed}, 'itemGuid', 'item-' || ${e.feed} || '-' || ${e.item},
                              'position', i % 3600, 'seconds', 60, 'satsPerMinute', 40, 'value', v.block),
           ${EVENT_MSAT}, ${e.receivedAt}, CASE WHEN ${e.applied} THEN ${e.receivedAt} + interval '2 seconds' END,
           CASE WHEN ${e.setAside} THEN 'a split the money core refuses' END
    FROM generate_series(1::bigint, ${s.events}) i JOIN reads_value_block v ON v.feed = ${e.feed}`);
}

// The non-constraint indexes of a table, to drop during the bulk insert and rebuild exactly as the migrations made them.
async function secondaryIndexes(client: pg.Client, table: string): Promise<{ name: string; definition: string }[]> {
  const { rows } = await client.query<{ name: string; definition: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i
     WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [table],
  );
  return rows;
}

// Two connections: events and allocations are inserted, and their indexes built, side by side (two cores).
export async function seedReads(databaseUrl: string, s: ReadsShape): Promise<SeededReads> {
  const started = process.hrtime.bigint();
  const [a, b] = [new pg.Client({ connectionString: databaseUrl }), new pg.Client({ connectionString: databaseUrl })];
  await Promise.all([a.connect(), b.connect()]);
  // The rows are consistent by construction: no per-row foreign-key checks (replica role skips their triggers, and the
  // running totals' triggers: ledger_tally_rebuild() sums them once at the end).
  for (const c of [a, b]) await c.query(`SET session_replication_role = replica; SET maintenance_work_mem = '512MB'; SET synchronous_commit = off`);
  await a.query(`INSERT INTO app (id, updated_at) SELECT 'reads-app-' || n, now() FROM generate_series(1, ${s.apps}) n`);
  const slots = 'generate_series(0, 3) k';
  const recipientAddress = (id: string) => `'02' || md5('r' || ${id}) || md5('s' || ${id})`;
  await a.query(`
    INSERT INTO recipient (id, address) SELECT id, ${recipientAddress('id')} FROM generate_series(1, ${2 + s.feeds * 4}) id;
    INSERT INTO app_recipient (recipient_id, app_id, name, parked, parked_at, consecutive_failures, last_error_code, last_error_message)
    SELECT DISTINCT ON (r, app) r, 'reads-app-' || app, 'Recipient ' || r, p, CASE WHEN p THEN now() END, CASE WHEN p THEN 5 ELSE 0 END,
           CASE WHEN p THEN 'no_route' END, CASE WHEN p THEN 'no route to the node' END
    FROM generate_series(0, ${s.feeds - 1}) f CROSS JOIN ${slots} CROSS JOIN generate_series(1, ${s.apps}) app
    CROSS JOIN LATERAL (SELECT ${recipientIdSql(s, 'f', 'k')} AS r, ${parkedSql('f', 'k', 'app')} AS p) x ORDER BY r, app, p DESC;
    INSERT INTO episode (app_id, feed_guid, item_guid, feed_title, item_title, feed_url)
    SELECT 'reads-app-' || app, 'feed-' || f, 'item-' || f || '-' || it, 'Show ' || f, 'Episode ' || it, 'https://feeds.example/' || f
    FROM generate_series(1, ${s.apps}) app CROSS JOIN generate_series(0, ${s.feeds - 1}) f CROSS JOIN generate_series(0, ${s.itemsPerFeed - 1}) it;
    INSERT INTO balance (id, recipient_id, app_id, feed_guid, item_guid, name, app_name)
    SELECT ${balanceIdSql(s, 'f', 'it', 'k', 'app')}, ${recipientIdSql(s, 'f', 'k')}, 'reads-app-' || app, 'feed-' || f, 'item-' || f || '-' || it,
           'Recipient ' || ${recipientIdSql(s, 'f', 'k')}, 'Reads'
    FROM generate_series(1, ${s.apps}) app CROSS JOIN generate_series(0, ${s.feeds - 1}) f CROSS JOIN generate_series(0, ${s.itemsPerFeed - 1}) it CROSS JOIN ${slots};
    CREATE TEMP TABLE reads_value_block AS
    SELECT f AS feed, jsonb_build_object('type', 'lightning', 'method', 'keysend', 'recipients',
             jsonb_agg(jsonb_build_object('name', 'Recipient ' || r, 'type', 'node', 'address', ${recipientAddress('r')}, 'split', 25) ORDER BY k)) AS block
    FROM generate_series(0, ${s.feeds - 1}) f CROSS JOIN ${slots} CROSS JOIN LATERAL (SELECT ${recipientIdSql(s, 'f', 'k')} AS r) x GROUP BY f;
    ANALYZE reads_value_block`);

  const tables = ['listening_event', 'allocation'] as const;
  const indexes = await Promise.all(tables.map((t) => secondaryIndexes(a, t)));
  for (const index of indexes.flat()) await a.query(`DROP INDEX ${index.name}`);
  // reads_value_block is a temporary table of connection a: the events are inserted there.
  await Promise.all([seedEvents(a, s), seedAllocations(b, s)]);
  await Promise.all(
    tables.map(async (_, t) => {
      for (const index of indexes[t]!) await (t === 0 ? a : b).query(index.definition);
    }),
  );

  // Money: per balance, what its applied listening accrued and what the paid part of it came to; one succeeded
  // payment pays the paid part; a parked balance holds the rest parked, with a failed payment of 1 sat before it.
  await a.query(`
    CREATE TEMP TABLE reads_money AS
    SELECT balance_id AS id, SUM(amount_msat)::bigint AS accrued, (SUM(amount_msat) FILTER (WHERE payment_id IS NOT NULL))::bigint AS paid
    FROM allocation GROUP BY balance_id;
    INSERT INTO payout (id, trigger, status, created_at, started_at, finished_at)
    SELECT p, 'schedule', 'completed', t, t, t + interval '1 minute'
    FROM generate_series(1, ${s.payouts}) p CROSS JOIN LATERAL (SELECT timestamp '2026-11-01' + p * interval '1 day' AS t) x;
    INSERT INTO payment (id, payout_id, recipient_id, balance_id, app_id, reference, amount_sats, attempt, status, custom_records, destination,
                         fee_sats, payment_hash, preimage, created_at, sent_at, finished_at)
    SELECT m.id, 1 + m.id % ${s.payouts}, b.recipient_id, m.id, b.app_id, 'reads-' || m.id, m.paid / 1000, 1, 'succeeded', '{}', r.address,
           m.id % 3, md5('h' || m.id) || md5('i' || m.id), md5('p' || m.id) || md5('q' || m.id), t, t, t + interval '2 seconds'
    FROM reads_money m JOIN balance b ON b.id = m.id JOIN recipient r ON r.id = b.recipient_id
    CROSS JOIN LATERAL (SELECT timestamp '2026-11-01' + (1 + m.id % ${s.payouts}) * interval '1 day' AS t) x
    WHERE m.paid > 0;
    INSERT INTO payment (id, payout_id, recipient_id, balance_id, app_id, reference, amount_sats, attempt, status, custom_records, destination,
                         error_code, error_message, created_at, sent_at, finished_at)
    SELECT ${s.apps * s.feeds * s.itemsPerFeed * 4} + b.id, ${s.payouts}, b.recipient_id, b.id, b.app_id, 'reads-failed-' || b.id, 1, 3, 'failed', '{}', r.address,
           'no_route', 'no route to the node', t, t, t + interval '2 seconds'
    FROM balance b JOIN app_recipient ar ON ar.recipient_id = b.recipient_id AND ar.app_id = b.app_id AND ar.parked
    JOIN recipient r ON r.id = b.recipient_id CROSS JOIN LATERAL (SELECT timestamp '2026-11-01' + ${s.payouts} * interval '1 day' AS t) x;
    INSERT INTO payment_part (payment_id, balance_id, msat) SELECT id, balance_id, amount_sats * 1000 FROM payment;
    UPDATE balance b SET accrued_msat = m.accrued, paid_msat = COALESCE(m.paid, 0),
           owed_msat = CASE WHEN ar.parked THEN 0 ELSE m.accrued - COALESCE(m.paid, 0) END,
           parked_msat = CASE WHEN ar.parked THEN m.accrued - COALESCE(m.paid, 0) ELSE 0 END
    FROM reads_money m, app_recipient ar WHERE m.id = b.id AND ar.recipient_id = b.recipient_id AND ar.app_id = b.app_id;
    DROP TABLE reads_money, reads_value_block;
    SELECT ledger_tally_rebuild()`);
  for (const [table, column] of [
    ['listening_event', 'id'],
    ['allocation', 'id'],
    ['recipient', 'id'],
    ['balance', 'id'],
    ['payout', 'id'],
    ['payment', 'id'],
  ])
    await a.query(`SELECT setval(pg_get_serial_sequence('${table}', '${column}'), (SELECT MAX(${column}) FROM ${table}))`);
  await Promise.all([a.query('VACUUM ANALYZE listening_event'), b.query('VACUUM ANALYZE allocation, listening_day')]);
  await a.query('VACUUM ANALYZE');
  const {
    rows: [count],
  } = await a.query<{ n: string }>(`SELECT reltuples::bigint AS n FROM pg_class WHERE relname = 'allocation'`);
  await Promise.all([a.end(), b.end()]);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, allocations: Number(count!.n) };
}

// Two new keys named after app 1: one of the app, one admin (every app's data).
export async function readsKeys(databaseUrl: string): Promise<{ appKey: string; adminKey: string }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const appKey = `ss_${randomBytes(32).toString('base64url')}`;
  const adminKey = `ss_${randomBytes(32).toString('base64url')}`;
  const hash = (key: string) => createHash('sha256').update(key).digest('hex');
  await client.query(
    `INSERT INTO api_key (name, scopes, key_hash, prefix) VALUES ($1, 'events:write payouts:read payouts:write', $2, $3), ($1, 'events:write payouts:read payouts:write admin', $4, $5)`,
    [readsApp(1), hash(appKey), appKey.slice(0, 8), hash(adminKey), adminKey.slice(0, 8)],
  );
  await client.end();
  return { appKey, adminKey };
}
