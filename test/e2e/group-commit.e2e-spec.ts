import { ApiKeysService, Scope } from '@splitstream/auth';
import { errorResponse } from '@splitstream/errors';
import { IngestionService, type IngestResult } from '@splitstream/ingestion';
import { MetricsService } from '@splitstream/observability';
import { TenantsService } from '@splitstream/tenants';
import pg from 'pg';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { eventually } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const host = pubkey(0x6c0);
// 60 s at `sats` per minute: worth `sats` * 1000 msat.
const event = (id: string, sats = 1, extra: object = {}) => ({
  id,
  feedGuid: 'group-feed',
  itemGuid: 'group-item',
  position: 0,
  seconds: 60,
  satsPerMinute: sats,
  value: { type: 'lightning', method: 'keysend', recipients: [{ type: 'node', address: host, split: 1 }] },
  ...extra,
});

// Group commit (libs/persistence GroupCommit): concurrent requests share one transaction. Each test holds a group
// in flight by locking an app's spend counter from another connection, queues requests behind it, and reads which
// transaction stored each event from its row's xmin (one transaction id per commit, when the group is stored together:
// by its one statement, or under one savepoint; a group judged request by request gives each request's savepoint an
// id of its own).
describe('group commit of POST /v1/events (e2e)', () => {
  let stack: Stack;
  let ingestion: IngestionService;
  const blockers: pg.Client[] = [];

  // Holds the app's day counter (it must exist: the app accepted an event today) until release().
  const block = async (app: string) => {
    const client = new pg.Client({ connectionString: stack.config.DATABASE_URL });
    await client.connect();
    blockers.push(client);
    await client.query('BEGIN');
    const { rowCount } = await client.query(`SELECT 1 FROM app_spend WHERE app_id = $1 AND period LIKE 'day:%' FOR UPDATE`, [app]);
    expect(rowCount).toBe(1);
    return { release: () => client.query('COMMIT') };
  };
  // The backends of this database waiting on a row lock: a blocked group.
  const lockWaiters = () =>
    query<{ pid: number }>(stack.config.DATABASE_URL, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
  const waitForBlockedGroup = () => eventually(lockWaiters, (pids) => pids.length === 1);
  const transactionsOf = async (app: string) =>
    (await query<{ tx: string }>(stack.config.DATABASE_URL, 'SELECT DISTINCT xmin::text AS tx FROM listening_event WHERE app_id = $1', [app])).map((r) => r.tx);
  const storedIds = async (app: string) =>
    (await query<{ event_id: string }>(stack.config.DATABASE_URL, 'SELECT event_id FROM listening_event WHERE app_id = $1 ORDER BY event_id', [app])).map(
      (r) => r.event_id,
    );
  // Starts an ingest and records, the moment it settles, whether its events are visible to another connection.
  const ingest = (app: string, ...events: object[]) => {
    const settled = { done: false };
    const answer = ingestion.ingest(app, { events }).then(
      async (result) => {
        settled.done = true;
        const ids = events.map((e) => (e as { id: string }).id);
        const visible = await query(stack.config.DATABASE_URL, 'SELECT 1 FROM listening_event WHERE app_id = $1 AND event_id = ANY($2)', [app, ids]);
        return { result, visibleWhenAnswered: visible.length };
      },
      (error: unknown) => {
        settled.done = true;
        throw error;
      },
    );
    return { answer, settled };
  };
  // Groups stored since `before`, by path (splitstream_ingest_groups_total): one statement, or judged in a transaction.
  const groupPaths = async () => new Map((await stack.api.get(MetricsService).ingestGroups.get()).values.map((v) => [String(v.labels.path), v.value] as const));
  const groupsSince = async (before: Map<string, number>) =>
    Object.fromEntries([...(await groupPaths())].flatMap(([path, n]) => (n > (before.get(path) ?? 0) ? [[path, n - (before.get(path) ?? 0)]] : [])));
  const seed = async (app: string) => expect((await ingestion.ingest(app, { events: [event(`${app}-seed`)] })).accepted).toBe(1);

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    ingestion = stack.api.get(IngestionService);
  });
  afterEach(async () => {
    for (const client of blockers.splice(0)) await client.end().catch(() => undefined);
  });
  afterAll(() => stack?.close());

  it('commits requests that arrive while a transaction commits in one transaction, answering none before its commit', async () => {
    await seed('grouped');
    const before = await groupPaths();
    const blocker = await block('grouped');
    const first = ingest('grouped', event('g-first'));
    await waitForBlockedGroup();
    const followers = Array.from({ length: 8 }, (_, i) => ingest('grouped', event(`g-${i}-a`), event(`g-${i}-b`)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([first, ...followers].map((f) => f.settled.done)).toEqual(Array(9).fill(false));
    expect(await storedIds('grouped')).toEqual(['grouped-seed']);

    await blocker.release();
    const answers = await Promise.all([first, ...followers].map((f) => f.answer));
    for (const { result, visibleWhenAnswered } of answers) {
      expect(result).toMatchObject({ accepted: result.events.length, rejected: 0 });
      expect(visibleWhenAnswered).toBe(result.events.length);
    }
    // The seed, the blocked first request, and one transaction for all eight that waited behind it: a single statement.
    expect(await transactionsOf('grouped')).toHaveLength(3);
    expect(await groupsSince(before)).toEqual({ one_statement: 2 });
  });

  it('starts a group as soon as it is full, beside the one committing; a group that is not full waits for it', async () => {
    await seed('g-held');
    const blocker = await block('g-held');
    const first = ingest('g-held', event('h-first'));
    await waitForBlockedGroup();
    const small = ingest('g-small', event('small-1'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(small.settled.done).toBe(false);

    // Requests of another app that, with the small one, make a full group: they commit while g-held is still held.
    const max = stack.config.INGEST_GROUP_MAX_EVENTS;
    const sizes = [...Array<number>(Math.floor((max - 1) / 100)).fill(100), (max - 1) % 100].filter((size) => size > 0);
    const full = sizes.map((size, r) => ingest('g-full', ...Array.from({ length: size }, (_, i) => event(`f-${r}-${i}`))));
    for (const { answer } of [small, ...full]) expect((await answer).result.rejected).toBe(0);
    expect(first.settled.done).toBe(false);
    expect(await storedIds('g-full')).toHaveLength(max - 1);
    expect(await transactionsOf('g-full')).toEqual(await transactionsOf('g-small'));

    await blocker.release();
    expect((await first.answer).result.accepted).toBe(1);
  });

  it("stores what fits of a request that breaks a cap inside a group, and the other requests' answers are untouched", async () => {
    await seed('g-capped');
    await seed('g-other');
    await stack.api.get(ApiKeysService).create('g-capped', [Scope.EventsWrite]); // caps are set for apps with a key
    await stack.api.get(TenantsService).setCaps('g-capped', { dayCapMsat: 3_000n }); // the seed used 1,000
    const before = await groupPaths();
    const blocker = await block('g-other');
    const first = ingest('g-other', event('o-first'));
    await waitForBlockedGroup();
    const capped = ingest('g-capped', event('c-1', 1), event('c-2', 5), event('c-3', 1));
    const other = ingest('g-other', event('o-1'), event('o-2'));
    await blocker.release();
    await first.answer;

    const verdicts = (result: IngestResult) => result.events.map((e) => e.code ?? e.status);
    expect(verdicts((await capped.answer).result)).toEqual(['accepted', 'app_day_cap_exceeded', 'accepted']);
    expect(verdicts((await other.answer).result)).toEqual(['accepted', 'accepted']);
    expect(await storedIds('g-capped')).toEqual(['c-1', 'c-3', 'g-capped-seed']);
    const [spent] = await query<{ msat: string }>(
      stack.config.DATABASE_URL,
      `SELECT msat::text FROM app_spend WHERE app_id = 'g-capped' AND period LIKE 'day:%'`,
    );
    expect(spent!.msat).toBe('3000');
    // The group's single statement reached the cap, so it was judged in a transaction (request by request).
    expect(await groupsSince(before)).toEqual({ one_statement: 1, after_cap_reached: 1 });
  });

  it('answers two requests of one group that send the same id as concurrent requests are: one stored, the other a conflict', async () => {
    await seed('g-shared');
    const before = await groupPaths();
    const blocker = await block('g-shared');
    const first = ingest('g-shared', event('s-first'));
    await waitForBlockedGroup();
    const sameIdA = ingest('g-shared', event('shared', 1), event('s-a'));
    const sameIdB = ingest('g-shared', event('shared', 2));
    const resent = ingest('g-shared', event('shared', 1));
    await blocker.release();
    await first.answer;
    expect((await sameIdA.answer).result).toMatchObject({ accepted: 2 });
    expect((await sameIdB.answer).result.events[0]).toMatchObject({ status: 'conflict', issues: [{ path: 'events[0].id' }] });
    expect((await resent.answer).result.events[0]).toMatchObject({ status: 'duplicate' });
    expect(await transactionsOf('g-shared')).toHaveLength(3);
    expect(await groupsSince(before)).toEqual({ one_statement: 1, judged_before_insert: 1 });
  });

  it('answers every request of a group 503 and stores none of it when the connection dies before its commit', async () => {
    await seed('g-y');
    await seed('g-z');
    const holdY = await block('g-y');
    const holdZ = await block('g-z');
    const first = ingest('g-y', event('y-first'));
    await waitForBlockedGroup();
    // Judged in app order: a-1 and a-2 are stored in the transaction before it waits on g-z's counter.
    const group = [ingest('g-a-1', event('a1-1')), ingest('g-a-2', event('a2-1')), ingest('g-z', event('z-1'))];
    await holdY.release();
    await first.answer;
    const [waiting] = await eventually(lockWaiters, (pids) => pids.length === 1);
    await query(stack.config.DATABASE_URL, 'SELECT pg_terminate_backend($1)', [waiting!.pid]);
    for (const { answer } of group) {
      const error = await answer.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(errorResponse(error).status).toBe(503);
    }
    await holdZ.release();
    expect([...(await storedIds('g-a-1')), ...(await storedIds('g-a-2')), ...(await storedIds('g-z'))]).toEqual(['g-z-seed']);
    // The pool recovers: the next request is stored.
    expect((await ingestion.ingest('g-a-1', { events: [event('a1-again')] })).accepted).toBe(1);
  });
});
