// The same-guarantee intake anchors of npm run bench: a bare Fastify endpoint that stores each request's events as
// the service does before its 202 (listening_event rows with the event as jsonb, its amount and listener id; the
// app's day, month and listener-day counters in app_spend upserted and checked against the caps, in the service's
// own tables, synchronous commit), then does one BullMQ add. No auth, no validation, no duplicate judging.
//   sync:  one transaction per request.
//   group: concurrent requests coalesced into one transaction (a flusher takes whatever is pending), each answered
//          only after the commit that stores it.
// The bearer token is the app id; an app's caps are read once (its own, else the defaults given on the command line).
import Fastify from 'fastify';
import { Queue } from 'bullmq';
import pg from 'pg';
import { eventAmountMsat } from '@splitstream/money';
import { dayPeriod, listenerDayPrefix, monthPeriod } from '../libs/tenants/src/spend-caps.js';

const [port, databaseUrl, redisUrl, prefix, mode, defaultDayCapMsat, defaultMonthCapMsat] = process.argv.slice(2);
if (mode !== 'sync' && mode !== 'group') throw new Error('mode: sync or group');

interface SentEvent {
  id: string;
  seconds: number;
  satsPerMinute: number;
  listenerId?: string;
}
interface Caps {
  day: string;
  month: string;
  listener: string | null;
}

const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
const queue = new Queue('bench-anchor', { connection: { url: redisUrl! }, prefix });
const capsOf = new Map<string, Promise<Caps>>();
const caps = (appId: string) => {
  if (!capsOf.has(appId))
    capsOf.set(
      appId,
      pool
        .query<{ day: string | null; month: string | null; listener: string | null }>(
          'SELECT day_cap_msat AS day, month_cap_msat AS month, listener_day_cap_msat AS listener FROM app WHERE id = $1',
          [appId],
        )
        .then(({ rows: [row] }) => ({ day: row?.day ?? defaultDayCapMsat!, month: row?.month ?? defaultMonthCapMsat!, listener: row?.listener ?? null })),
    );
  return capsOf.get(appId)!;
};

// The service's store statement (libs/ingestion store(), with the caps given): events, counters and cap checks in one
// statement.
const STORE = `
  WITH inserted AS (
    INSERT INTO listening_event (app_id, event_id, payload, amount_msat, listener_id)
    SELECT $1, e.event_id, e.payload, e.amount_msat, e.listener_id
    FROM ROWS FROM (unnest($2::text[]), jsonb_array_elements($3::jsonb), unnest($4::bigint[]), unnest($5::text[])) AS e(event_id, payload, amount_msat, listener_id)
    ORDER BY e.event_id
    ON CONFLICT (app_id, event_id) DO NOTHING
    RETURNING id, event_id, amount_msat, listener_id
  ), charges AS (
    SELECT c.period, c.cap, SUM(i.amount_msat)::bigint AS msat
    FROM inserted i CROSS JOIN LATERAL (VALUES ($6, $7::bigint), ($8, $9::bigint), ($10 || i.listener_id, $11::bigint)) AS c(period, cap)
    WHERE c.period IS NOT NULL AND c.cap IS NOT NULL
    GROUP BY c.period, c.cap
  ), spent AS (
    INSERT INTO app_spend (app_id, period, msat)
    SELECT $1, period, msat FROM charges WHERE msat > 0 ORDER BY period
    ON CONFLICT (app_id, period) DO UPDATE SET msat = app_spend.msat + EXCLUDED.msat
    RETURNING period, msat
  ), checked AS (
    SELECT splitstream_check_spend(s.period, s.msat, c.msat, c.cap) AS ok FROM spent s JOIN charges c USING (period) ORDER BY s.period
  )
  SELECT i.id, i.event_id FROM inserted i, (SELECT bool_and(ok) FROM checked) AS all_checked`;

// The caps are read before a client is taken from the pool: a request holding one while waiting for another could
// starve the pool.
async function store(client: pg.PoolClient, appId: string, limits: Caps, events: SentEvent[]): Promise<Map<string, string>> {
  const now = new Date();
  const { rows } = await client.query<{ id: string; event_id: string }>(STORE, [
    appId,
    events.map((e) => e.id),
    JSON.stringify(events), // the payloads as one JSON array, as the service sends them
    events.map((e) => String(eventAmountMsat(e.satsPerMinute, e.seconds))),
    events.map((e) => e.listenerId ?? null),
    dayPeriod(now),
    limits.day,
    monthPeriod(now),
    limits.month,
    listenerDayPrefix(now),
    limits.listener,
  ]);
  return new Map(rows.map((r) => [r.event_id, r.id]));
}

async function storeOne(appId: string, events: SentEvent[]): Promise<Map<string, string>> {
  const limits = await caps(appId);
  const client = await pool.connect();
  try {
    return await store(client, appId, limits, events);
  } finally {
    client.release();
  }
}

interface Pending {
  appId: string;
  events: SentEvent[];
  done: (error: Error | null, ids?: Map<string, string>) => void;
}
let pending: Pending[] = [];
let flushing = false;

// One flusher at a time: it takes every request pending, stores them in one transaction (one statement per app),
// commits, then answers each. Requests arriving meanwhile wait for the next flush.
async function flush(): Promise<void> {
  flushing = true;
  while (pending.length) {
    const batch = pending;
    pending = [];
    const byApp = new Map<string, SentEvent[]>();
    for (const p of batch) byApp.set(p.appId, [...(byApp.get(p.appId) ?? []), ...p.events]);
    const limits = new Map(await Promise.all([...byApp.keys()].map(async (appId) => [appId, await caps(appId)] as const)));
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const ids = new Map<string, Map<string, string>>();
      for (const [appId, events] of byApp) ids.set(appId, await store(client, appId, limits.get(appId)!, events));
      await client.query('COMMIT');
      for (const p of batch) p.done(null, ids.get(p.appId));
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      for (const p of batch) p.done(error as Error);
    } finally {
      client.release();
    }
  }
  flushing = false;
}

const storeGrouped = (appId: string, events: SentEvent[]) =>
  new Promise<Map<string, string>>((resolve, reject) => {
    pending.push({ appId, events, done: (error, ids) => (error ? reject(error) : resolve(ids!)) });
    if (!flushing) void flush();
  });

const app = Fastify({ bodyLimit: 5 * 1024 * 1024 });
app.get('/health', async () => ({ status: 'ok' }));
app.post('/v1/events', async (request, reply) => {
  const appId = request.headers.authorization!.slice('Bearer '.length);
  const { events } = request.body as { events: SentEvent[] };
  const ids = await (mode === 'group' ? storeGrouped : storeOne)(appId, events);
  const eventIds = events.flatMap((e) => ids.get(e.id) ?? []);
  await queue.add('apply-events', { eventIds }, { removeOnComplete: true, removeOnFail: true });
  return reply.code(202).send({ accepted: eventIds.length });
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
