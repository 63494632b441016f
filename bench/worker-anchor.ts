// The drain's anchors, run on the same backlog as the worker (the bench database's listening_event rows):
// (d) a bare BullMQ worker + `pg` doing the worker's own reads and writes: lock the events, the recipient,
//     app_recipient and episode upserts, the balances, one allocation row per share, mark applied; jobs grouped
//     into one transaction of up to 2,000 events, as the worker does. No Nest, no Prisma, no validation.
// (e) raw `pg` writing only balances (and marking events applied, which any design must): the floor of any design.
// Run as a process (`node --import tsx bench/worker-anchor.ts <databaseUrl> <redisUrl> <prefix> <port>`) it is anchor (d),
// consuming the ledger queue under that prefix until killed (healthy on <port> once connected).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Worker } from 'bullmq';
import pg from 'pg';
import { type Allocation, recipientIdentity, splitListening } from '@splitstream/money';
import type { ListeningPayload } from '@splitstream/ledger';

const EVENTS_PER_TRANSACTION = 2_000;

interface StoredEvent {
  id: string;
  app_id: string;
  day: string;
  payload: ListeningPayload;
  amount_msat: string;
}

const splits = new Map<string, Allocation[]>();
function splitOf(event: StoredEvent): Allocation[] {
  const { payload } = event;
  const key = `${event.amount_msat}|${payload.seconds}|${payload.position}|${JSON.stringify(payload.value)}`;
  let split = splits.get(key);
  if (!split) {
    split = splitListening({ amountMsat: BigInt(event.amount_msat), position: payload.position, seconds: payload.seconds, value: payload.value! }); // the bench sends its blocks inline
    splits.set(key, split);
  }
  return split;
}

const sortedValues = <T>(entries: Map<string, T>) => [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);

// Anchor (d)'s transaction: the same statements the worker's AccumulationService runs, for one group of events.
async function applyEvents(client: pg.PoolClient, ids: string[]): Promise<void> {
  await client.query('BEGIN');
  const { rows: events } = await client.query<StoredEvent>(
    `SELECT id, app_id, received_at::date::text AS day, payload, amount_msat FROM listening_event WHERE id = ANY($1::bigint[]) AND applied_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED`,
    [ids],
  );
  const recipients = new Map<string, { address: string; customKey: string; customValue: string }>();
  const names = new Map<string, { recipient: string; appId: string; name: string }>();
  const episodes = new Map<string, { appId: string; p: ListeningPayload }>();
  const balances = new Map<string, { recipient: string; appId: string; p: ListeningPayload; rf: string; ri: string; msat: bigint; name: string }>();
  const shares: { eventId: string; balance: string; msat: bigint; day: string }[] = [];
  for (const event of events) {
    const p = event.payload;
    episodes.set(JSON.stringify([event.app_id, p.feedGuid, p.itemGuid]), { appId: event.app_id, p });
    for (const a of splitOf(event)) {
      const recipient = recipientIdentity(a.recipient);
      const name = a.recipient.name ?? '';
      recipients.set(recipient, { address: a.recipient.address, customKey: a.recipient.customKey ?? '', customValue: a.recipient.customValue ?? '' });
      names.set(JSON.stringify([recipient, event.app_id]), { recipient, appId: event.app_id, name });
      const [rf, ri] = [a.remoteFeedGuid ?? '', a.remoteItemGuid ?? ''];
      const balance = JSON.stringify([recipient, event.app_id, p.feedGuid, p.itemGuid, rf, ri]);
      const msat = (balances.get(balance)?.msat ?? 0n) + a.amountMsat;
      balances.set(balance, { recipient, appId: event.app_id, p, rf, ri, msat, name });
      shares.push({ eventId: event.id, balance, msat: a.amountMsat, day: event.day });
    }
  }
  const r = sortedValues(recipients);
  const { rows: recipientRows } = await client.query<{ id: string; address: string; custom_key: string; custom_value: string }>(
    `INSERT INTO recipient (address, custom_key, custom_value) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
     ON CONFLICT (address, custom_key, custom_value) DO UPDATE SET address = EXCLUDED.address RETURNING id, address, custom_key, custom_value`,
    [r.map((x) => x.address), r.map((x) => x.customKey), r.map((x) => x.customValue)],
  );
  const recipientId = new Map(
    recipientRows.map((row) => [
      recipientIdentity({ address: row.address, customKey: row.custom_key || undefined, customValue: row.custom_value || undefined }),
      row.id,
    ]),
  );
  const n = sortedValues(names);
  await client.query(
    `INSERT INTO app_recipient (recipient_id, app_id, name) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
     ON CONFLICT (recipient_id, app_id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()`,
    [n.map((x) => recipientId.get(x.recipient)), n.map((x) => x.appId), n.map((x) => x.name)],
  );
  const e = sortedValues(episodes);
  await client.query(
    `INSERT INTO episode (app_id, feed_guid, item_guid, feed_title, item_title, feed_url, feed_id, item_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])
     ON CONFLICT (app_id, feed_guid, item_guid) DO UPDATE SET feed_title = COALESCE(NULLIF(EXCLUDED.feed_title, ''), episode.feed_title),
       item_title = COALESCE(NULLIF(EXCLUDED.item_title, ''), episode.item_title), feed_url = COALESCE(NULLIF(EXCLUDED.feed_url, ''), episode.feed_url),
       feed_id = COALESCE(EXCLUDED.feed_id, episode.feed_id), item_id = COALESCE(EXCLUDED.item_id, episode.item_id), updated_at = now()`,
    [
      e.map((x) => x.appId),
      e.map((x) => x.p.feedGuid),
      e.map((x) => x.p.itemGuid),
      e.map((x) => x.p.feedTitle ?? ''),
      e.map((x) => x.p.itemTitle ?? ''),
      e.map((x) => x.p.feedUrl ?? ''),
      e.map((x) => x.p.feedId ?? null),
      e.map((x) => x.p.itemId ?? null),
    ],
  );
  const b = sortedValues(balances);
  const { rows: balanceRows } = await client.query<{ id: string; r: string; a: string; f: string; i: string; rf: string; ri: string }>(
    `INSERT INTO balance (recipient_id, app_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid, accrued_msat, owed_msat, parked_msat,
                         name, app_name, app_version, sender_name, position)
     SELECT d.r, d.a, d.f, d.i, d.rf, d.ri, d.m, CASE WHEN ar.parked THEN 0 ELSE d.m END, CASE WHEN ar.parked THEN d.m ELSE 0 END, d.n, d.an, d.av, d.sn, d.p
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int[])
       WITH ORDINALITY AS d(r, a, f, i, rf, ri, m, n, an, av, sn, p, ord)
     JOIN app_recipient ar ON ar.recipient_id = d.r AND ar.app_id = d.a
     ORDER BY d.ord
     ON CONFLICT (recipient_id, app_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid) WHERE boost_id IS NULL DO UPDATE SET
       accrued_msat = balance.accrued_msat + EXCLUDED.accrued_msat, owed_msat = balance.owed_msat + EXCLUDED.owed_msat,
       parked_msat = balance.parked_msat + EXCLUDED.parked_msat, name = EXCLUDED.name, app_name = EXCLUDED.app_name,
       app_version = EXCLUDED.app_version, sender_name = EXCLUDED.sender_name, position = EXCLUDED.position, updated_at = now()
     RETURNING id, recipient_id AS r, app_id AS a, feed_guid AS f, item_guid AS i, remote_feed_guid AS rf, remote_item_guid AS ri`,
    [
      b.map((x) => recipientId.get(x.recipient)),
      b.map((x) => x.appId),
      b.map((x) => x.p.feedGuid),
      b.map((x) => x.p.itemGuid),
      b.map((x) => x.rf),
      b.map((x) => x.ri),
      b.map((x) => String(x.msat)),
      b.map((x) => x.name),
      b.map((x) => x.p.appName ?? ''),
      b.map((x) => x.p.appVersion ?? ''),
      b.map((x) => x.p.senderName ?? ''),
      b.map((x) => Math.floor(x.p.position)),
    ],
  );
  const byRow = new Map(balanceRows.map((row) => [JSON.stringify([row.r, row.a, row.f, row.i, row.rf, row.ri]), row.id]));
  const balanceId = new Map(
    [...balances].map(([key, x]) => [key, byRow.get(JSON.stringify([recipientId.get(x.recipient), x.appId, x.p.feedGuid, x.p.itemGuid, x.rf, x.ri]))]),
  );
  await client.query(
    `WITH share AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::date[]) AS s(e, b, r, m, d)),
          allocated AS (INSERT INTO allocation (event_id, balance_id, amount_msat) SELECT e, b, m FROM share)
     INSERT INTO listening_day AS l (recipient_id, day, balance_id, listened_msat) SELECT r, d, b, SUM(m) FROM share GROUP BY r, d, b ORDER BY r, d, b
     ON CONFLICT (recipient_id, day, balance_id) DO UPDATE SET listened_msat = l.listened_msat + EXCLUDED.listened_msat`,
    [
      shares.map((s) => s.eventId),
      shares.map((s) => balanceId.get(s.balance)),
      shares.map((s) => recipientId.get(balances.get(s.balance)!.recipient)),
      shares.map((s) => String(s.msat)),
      shares.map((s) => s.day),
    ],
  );
  await client.query('UPDATE listening_event SET applied_at = now() WHERE id = ANY($1::bigint[])', [events.map((x) => x.id)]);
  await client.query('COMMIT');
}

// Anchor (d): consumes the ledger queue's apply-events jobs (100 at a time) and applies the waiting jobs' events
// together, one transaction at a time, each job acknowledged after its transaction commits.
export function anchorWorker(databaseUrl: string, redisUrl: string, prefix: string): { ready: Promise<void>; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  let queued: { ids: string[]; done: (error?: unknown) => void }[] = [];
  let running = false;
  const flush = async () => {
    if (running || queued.length === 0) return;
    running = true;
    let events = 0;
    const group = queued.filter((job) => (events += job.ids.length) <= EVENTS_PER_TRANSACTION || job === queued[0]);
    queued = queued.slice(group.length);
    const client = await pool.connect();
    try {
      await applyEvents(client, [...new Set(group.flatMap((job) => job.ids))]);
      for (const job of group) job.done();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      for (const job of group) job.done(error);
    } finally {
      client.release();
      running = false;
      setImmediate(() => void flush());
    }
  };
  const worker = new Worker<{ eventIds: string[] }>(
    'ledger',
    (job) =>
      new Promise<void>((resolve, reject) => {
        queued.push({ ids: job.data.eventIds, done: (error) => (error ? reject(error as Error) : resolve()) });
        setImmediate(() => void flush());
      }),
    { connection: { url: redisUrl }, prefix, concurrency: 100 },
  );
  // An anchor that cannot apply (its SQL out of step with the schema) stops, so the bench fails instead of waiting.
  worker.on('failed', (_job, error) => {
    console.error(`anchor (d) failed: ${error.message}`);
    process.exit(1);
  });
  return { ready: worker.waitUntilReady().then(() => undefined), close: async () => (await worker.close(), await pool.end()) };
}

// Anchor (e): what is left when a design writes nothing per event but the balances: lock a group of unapplied
// events, add their exact splits to their balances (a table of its own, so no recipient rows are needed), mark them
// applied. One connection, no queue. Returns events/s and the backlog it drained.
export async function balancesOnly(databaseUrl: string): Promise<{ eventsPerSecond: number; events: number; cpuMs: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS anchor_balance;
    CREATE TABLE anchor_balance (recipient text, app_id text, feed_guid text, item_guid text, remote_feed_guid text, remote_item_guid text,
      accrued_msat bigint NOT NULL, PRIMARY KEY (recipient, app_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid))`);
  // The backlog is read in id order from its first event on (found before the clock starts): from id 0, every batch
  // would walk past all the events applied before it, a cost no design pays (the worker gets its events' ids).
  const { rows: first } = await client.query<{ after: string }>(
    'SELECT coalesce(min(id) - 1, 0)::text AS after FROM listening_event WHERE applied_at IS NULL AND apply_error IS NULL',
  );
  let after = first[0]!.after;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let total = 0;
  for (;;) {
    await client.query('BEGIN');
    const { rows: events } = await client.query<StoredEvent>(
      `SELECT id, app_id, received_at::date::text AS day, payload, amount_msat FROM listening_event
       WHERE id > $1 AND applied_at IS NULL AND apply_error IS NULL ORDER BY id LIMIT ${EVENTS_PER_TRANSACTION} FOR UPDATE SKIP LOCKED`,
      [after],
    );
    if (events.length === 0) break;
    after = events.at(-1)!.id;
    const sums = new Map<string, bigint>();
    for (const event of events)
      for (const a of splitOf(event)) {
        const key = JSON.stringify([
          recipientIdentity(a.recipient),
          event.app_id,
          event.payload.feedGuid,
          event.payload.itemGuid,
          a.remoteFeedGuid ?? '',
          a.remoteItemGuid ?? '',
        ]);
        sums.set(key, (sums.get(key) ?? 0n) + a.amountMsat);
      }
    const keys = [...sums.keys()].sort().map((k) => JSON.parse(k) as string[]);
    await client.query(
      `INSERT INTO anchor_balance SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
       ON CONFLICT (recipient, app_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid) DO UPDATE SET accrued_msat = anchor_balance.accrued_msat + EXCLUDED.accrued_msat`,
      [...[0, 1, 2, 3, 4, 5].map((i) => keys.map((k) => k[i])), keys.map((k) => String(sums.get(JSON.stringify(k))))],
    );
    await client.query('UPDATE listening_event SET applied_at = now() WHERE id = ANY($1::bigint[])', [events.map((x) => x.id)]);
    await client.query('COMMIT');
    total += events.length;
  }
  await client.query('ROLLBACK');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  await client.end();
  return { eventsPerSecond: total / seconds, events: total, cpuMs: (used.user + used.system) / 1000 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [databaseUrl, redisUrl, prefix, port] = process.argv.slice(2) as [string, string, string, string];
  const anchor = anchorWorker(databaseUrl, redisUrl, prefix);
  await anchor.ready;
  // Healthy once connected, like the worker: the bench starts the clock after.
  createServer((_, res) => res.end('ok')).listen(Number(port), '127.0.0.1');
  process.once('SIGTERM', () => void anchor.close().then(() => process.exit(0)));
}
