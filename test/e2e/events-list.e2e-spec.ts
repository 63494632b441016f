import { ApiKeysService, Scope } from '@splitstream/auth';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { apiClient } from '../support/http.js';
import { storeSetAsideEvent } from '../support/set-aside.js';
import { type Stack, startStack } from '../support/stack.js';

const event = (id: string, feedGuid: string, itemGuid: string, sats = 100) => ({
  id,
  feedGuid,
  itemGuid,
  position: 0,
  seconds: 60,
  satsPerMinute: sats,
  value: { type: 'lightning', method: 'keysend', recipients: [{ name: 'Host', type: 'node', address: pubkey(0x7e1), split: 1 }] },
});

interface Summary {
  id: string;
  app: string;
  href: string;
  status: string;
  receivedAt: string;
}

// GET /v1/events: app A's events (applied, set aside, awaiting) beside app B's; each key sees its own app's.
describe('GET /v1/events (e2e)', () => {
  let stack: Stack;
  let appA: ReturnType<typeof apiClient>;
  let appB: ReturnType<typeof apiClient>;
  let appC: ReturnType<typeof apiClient>;
  const ids = (body: { events: Summary[] }) => body.events.map((e) => e.id);
  // A's events, newest first (by id): awaiting, set aside (received an hour ago), then the three applied.
  const A_ALL = ['a-await', 'a-aside', 'a-3', 'a-2', 'a-1'];

  beforeAll(async () => {
    stack = await startStack();
    const keys = stack.api.get(ApiKeysService);
    const scopes = [Scope.EventsWrite, Scope.PayoutsRead];
    appA = apiClient(stack.baseUrl, (await keys.create('app-a', scopes)).key);
    appB = apiClient(stack.baseUrl, (await keys.create('app-b', scopes)).key);
    appC = apiClient(stack.baseUrl, (await keys.create('app-c', scopes)).key);
    for (const [id, feed, item] of [
      ['a-1', 'feed-1', 'item-1'],
      ['a-2', 'feed-1', 'item-2'],
      ['a-3', 'feed-2', 'item-3'],
    ]) {
      expect((await appA.post('/v1/events', { events: [event(id!, feed!, item!)] })).status).toBe(202);
    }
    expect((await appB.post('/v1/events', { events: [event('b-1', 'feed-1', 'item-1', 50)] })).status).toBe(202);
    await stack.accumulated();
    await storeSetAsideEvent(stack, 'app-a', 'a-aside', 'feed-1');
    // Stored, its job not queued: awaiting accumulation until a sweep finds it (minutes from now).
    await query(stack.config.DATABASE_URL, `INSERT INTO listening_event (app_id, event_id, payload, amount_msat) VALUES ('app-a', 'a-await', $1, 100000)`, [
      event('a-await', 'feed-2', 'item-4'),
    ]);
  });
  afterAll(() => stack.close());

  it("lists the app's events newest first, each a summary whose href is the event", async () => {
    const res = await appA.get('/v1/events');
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(A_ALL);
    expect(res.body.nextBefore).toBeNull();
    const [awaiting, aside, applied] = res.body.events;
    expect(applied).toEqual({
      id: 'a-3',
      app: 'app-a',
      href: '/v1/events/a-3?app=app-a',
      feedGuid: 'feed-2',
      itemGuid: 'item-3',
      amountMsat: '100000',
      status: 'applied',
      setAsideReason: null,
      receivedAt: expect.any(String),
      appliedAt: expect.any(String),
    });
    expect(aside).toMatchObject({ status: 'set_aside', setAsideReason: expect.stringMatching(/^cannot be split/), appliedAt: null });
    expect(awaiting).toMatchObject({ status: 'awaiting', setAsideReason: null, appliedAt: null });
    const linked = await appA.get(applied.href);
    expect(linked).toMatchObject({ status: 200, body: { id: 'a-3', app: 'app-a', amountMsat: '100000' } });
  });

  it('filters by feed, episode, status and received time', async () => {
    expect(ids((await appA.get('/v1/events?feedGuid=feed-1')).body)).toEqual(['a-aside', 'a-2', 'a-1']);
    expect(ids((await appA.get('/v1/events?feedGuid=feed-1&itemGuid=item-2')).body)).toEqual(['a-2']);
    expect(ids((await appA.get('/v1/events?itemGuid=item-4')).body)).toEqual(['a-await']);
    expect(ids((await appA.get('/v1/events?status=applied')).body)).toEqual(['a-3', 'a-2', 'a-1']);
    expect(ids((await appA.get('/v1/events?status=set_aside')).body)).toEqual(['a-aside']);
    expect(ids((await appA.get('/v1/events?status=awaiting')).body)).toEqual(['a-await']);
    // Received time, not id order: the set-aside event was received an hour before the others.
    const all: Summary[] = (await appA.get('/v1/events')).body.events;
    const receivedAt = (id: string) => all.find((e) => e.id === id)!.receivedAt;
    expect(ids((await appA.get(`/v1/events?until=${receivedAt('a-1')}`)).body)).toEqual(['a-aside']);
    expect(ids((await appA.get(`/v1/events?since=${receivedAt('a-2')}&until=${receivedAt('a-3')}`)).body)).toEqual(['a-2']);
    expect(ids((await appA.get(`/v1/events?since=${receivedAt('a-3')}&status=applied`)).body)).toEqual(['a-3']);
  });

  it('pages with limit and the previous page’s nextBefore', async () => {
    const seen: string[] = [];
    let path = '/v1/events?limit=2';
    for (let page = 0; page < 5; page++) {
      const res = await appA.get(path);
      expect(res.status).toBe(200);
      seen.push(...ids(res.body));
      if (res.body.nextBefore === null) break;
      path = `/v1/events?limit=2&before=${res.body.nextBefore}`;
    }
    expect(seen).toEqual(A_ALL);
  });

  it("shows another app's key nothing of app A's events, and refuses it app A's list by name", async () => {
    expect(ids((await appB.get('/v1/events')).body)).toEqual(['b-1']);
    expect(ids((await appB.get('/v1/events?feedGuid=feed-1')).body)).toEqual(['b-1']);
    expect((await appC.get('/v1/events')).body).toEqual({ events: [], nextBefore: null });
    expect((await appC.get('/v1/events?status=set_aside')).body.events).toEqual([]);
    const named = await appB.get('/v1/events?app=app-a');
    expect(named).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect((await appB.get('/v1/events?app=app-b')).status).toBe(200);
    // The href of A's event, with B's key: refused, nothing of it shown.
    const refused = await appB.get('/v1/events/a-3?app=app-a');
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).not.toContain('100000');
  });

  it("lists every app's events for an admin key, or one app's with ?app=", async () => {
    expect(ids((await stack.http.get('/v1/events')).body)).toEqual(['a-await', 'a-aside', 'b-1', 'a-3', 'a-2', 'a-1']);
    expect(ids((await stack.http.get('/v1/events?app=app-b')).body)).toEqual(['b-1']);
    // A misspelt app is not an app that sent nothing.
    for (const path of ['/v1/events?app=Nope', '/v1/events/a-3?app=Nope']) {
      const res = await stack.http.get(path);
      expect([path, res.status, res.body.message]).toEqual([path, 404, expect.stringContaining('no app "Nope"')]);
    }
    const [aside] = (await stack.http.get('/v1/events?status=set_aside')).body.events;
    expect((await stack.http.get(aside.href)).body).toMatchObject({ id: 'a-aside', app: 'app-a', appliedAt: null });
  });

  it('validates the query strictly', async () => {
    for (const path of [
      '/v1/events?feed=feed-1',
      '/v1/events?status=pending',
      '/v1/events?since=yesterday',
      '/v1/events?limit=0',
      '/v1/events?limit=101',
      '/v1/events?before=abc',
      `/v1/events?feedGuid=${'x'.repeat(257)}`,
      '/v1/events?feedGuid=%00',
      '/v1/events?itemGuid=a%00b',
      '/v1/events?app=app-a%00',
      // Years 1 to 9999 once the offset is applied (PostgreSQL has no year 0); the same parser on other routes.
      '/v1/events?since=0000-01-01T00:00:00Z',
      '/v1/events?until=0001-01-01T00:00:00+01:00',
      '/v1/events?until=9999-12-31T23:59:59.999-23:59',
      '/v1/payments?from=0000-01-01T00:00:00Z',
      '/v1/payments?to=10000-01-01T00:00:00Z',
      '/v1/recipients/1/statement?from=0000-12-31T23:59:59Z',
    ]) {
      const res = await appA.get(path);
      expect([path, res.status, res.body.error]).toEqual([path, 400, 'invalid_request']);
    }
    const admin = await stack.http.get('/v1/events?app=%00');
    expect([admin.status, admin.body.error]).toEqual([400, 'invalid_request']);
  });

  it('answers odd but valid queries without a 500', async () => {
    for (const path of [
      '/v1/events?feedGuid=%ED%A0%80',
      '/v1/events?feedGuid=%F0%9F',
      '/v1/events?since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59.999Z',
      '/v1/events?since=2026-12-01T00:00:00Z&until=2026-11-01T00:00:00Z',
      '/v1/events?limit=1e2',
      '/v1/payments?from=0001-01-01T00:00:00Z',
    ]) {
      const res = await appA.get(path);
      expect([path, res.status < 500]).toEqual([path, true]);
    }
    expect((await appA.get('/v1/events?since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59.999Z')).body.events).toHaveLength(5);
  });

  // Ids come from one sequence for every app: a raw id as cursor would let app B count the events (and duplicate
  // submissions, which consume ids too) other apps sent between two of its own pages.
  it("gives opaque cursors, good only for the app and list they came from: B learns nothing of A's events from them", async () => {
    expect((await appB.post('/v1/events', { events: [event('b-2', 'feed-9', 'item-9')] })).status).toBe(202);
    for (let i = 0; i < 3; i++) {
      expect((await appA.post('/v1/events', { events: Array.from({ length: 25 }, (_, j) => event(`a-burst-${i}-${j}`, 'feed-8', 'item-8')) })).status).toBe(
        202,
      );
    }
    expect((await appB.post('/v1/events', { events: [event('b-3', 'feed-9', 'item-9')] })).status).toBe(202);
    const newest = (await appB.get('/v1/events?feedGuid=feed-9&limit=1')).body;
    const older = (await appB.get(`/v1/events?feedGuid=feed-9&limit=1&before=${newest.nextBefore}`)).body;
    expect([ids(newest), ids(older)]).toEqual([['b-3'], ['b-2']]);
    expect(newest.nextBefore).toMatch(/^[A-Za-z0-9_-]{48}$/);
    expect(older.nextBefore).toBeNull(); // b-2 is B's last feed-9 event: no page after it
    // The same page twice: two different cursors (nothing to compare), both good.
    const again = (await appB.get('/v1/events?feedGuid=feed-9&limit=1')).body.nextBefore;
    expect(again).not.toBe(newest.nextBefore);
    expect(ids((await appB.get(`/v1/events?feedGuid=feed-9&limit=1&before=${again}`)).body)).toEqual(['b-2']);

    const [{ max }] = await query<{ max: string }>(stack.config.DATABASE_URL, 'SELECT MAX(id)::text AS max FROM listening_event');
    const tampered = `${newest.nextBefore.slice(0, 20)}${newest.nextBefore[20] === 'A' ? 'B' : 'A'}${newest.nextBefore.slice(21)}`;
    for (const [client, path] of [
      [appB, `/v1/events?before=${BigInt(max) + 1n}`], // a raw id, as cursors were
      [appB, '/v1/events?before=9223372036854775807'],
      [appB, `/v1/events?before=${tampered}`],
      [appA, `/v1/events?before=${newest.nextBefore}`], // B's cursor, A's key
      [appB, `/v1/payments?before=${newest.nextBefore}`], // another list's
      [appB, `/v1/recipients?before=${newest.nextBefore}`],
    ] as const) {
      const res = await client.get(path);
      expect([path, res.status, res.body.error, res.body.issues]).toEqual([
        path,
        400,
        'invalid_request',
        [{ path: 'before', message: "must be the nextBefore of this list's previous page" }],
      ]);
    }
  });
});
