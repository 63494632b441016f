import type { INestApplication } from '@nestjs/common';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { APP_CONFIG } from '@splitstream/config';
import { TenantsService } from '@splitstream/tenants';
import { createApi } from '../../apps/api/src/create-api.js';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { listen, request } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const listening = (id: string, extra: object = {}) => ({
  id,
  feedGuid: 'feed-i',
  itemGuid: 'item-i',
  position: 0,
  seconds: 60,
  satsPerMinute: 10,
  value: { type: 'lightning', method: 'keysend', recipients: [{ name: 'Host', type: 'node', address: pubkey(0x1e), split: 1 }] },
  ...extra,
});

const eventCount = async (stack: Stack) => Number((await query<{ n: string }>(stack.config.DATABASE_URL, 'SELECT COUNT(*) AS n FROM listening_event'))[0]!.n);

describe('POST /v1/events (e2e)', () => {
  let stack: Stack;
  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    request(stack.baseUrl, '/v1/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  // A key of an app of its own, for tests that change its caps.
  const appKey = async (app: string) => {
    const { key } = await stack.api.get(ApiKeysService).create(app, [Scope.EventsWrite, Scope.PayoutsRead]);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    return (...events: object[]) => request(stack.baseUrl, '/v1/events', { method: 'POST', headers, body: JSON.stringify({ events }) });
  };
  const answers = (res: { status: number; body: any }): string[] =>
    res.status === 202
      ? res.body.events.map((e: { status: string; code?: string }) => e.code ?? e.status)
      : res.body.issues.map((i: { code: string }) => i.code);

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('accepts a batch with 202 and counts each event id once, ever', async () => {
    const first = await post({ events: [listening('dup-1'), listening('dup-2'), listening('dup-1')] });
    expect(first).toMatchObject({ status: 202 });
    expect(first.body).toEqual({
      accepted: 2,
      duplicates: 1,
      conflicts: 0,
      rejected: 0,
      events: [
        { index: 0, id: 'dup-1', status: 'accepted' },
        { index: 1, id: 'dup-2', status: 'accepted' },
        { index: 2, id: 'dup-1', status: 'duplicate' },
      ],
    });
    const again = await post({ events: [listening('dup-2'), listening('dup-3')] });
    expect(again.body).toMatchObject({ accepted: 1, duplicates: 1, conflicts: 0, rejected: 0 });
    await stack.accumulated();
    const report = await stack.invariant();
    expect(report).toMatchObject({ ok: true, eventsMsat: String(3 * 10_000), accruedMsat: String(3 * 10_000) });
  });

  it('counts concurrent duplicates arriving at two api instances at the same moment once', async () => {
    // A second instance of the same api: its own metrics listener off (the first one holds the port).
    const second: INestApplication = await createApi({ ...stack.config, METRICS_PORT: 0 });
    try {
      const otherUrl = await listen(second);
      const batch = { events: Array.from({ length: 200 }, (_, i) => listening(`race-${i}`)) };
      const send = (baseUrl: string) =>
        request(baseUrl, '/v1/events', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.key}` },
          body: JSON.stringify(batch),
        });
      const before = await eventCount(stack);
      const results = await Promise.all([send(stack.baseUrl), send(otherUrl), send(stack.baseUrl), send(otherUrl)]);
      expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202]);
      expect(results.reduce((sum, r) => sum + r.body.accepted, 0)).toBe(200);
      expect(results.reduce((sum, r) => sum + r.body.duplicates, 0)).toBe(600);
      expect((await eventCount(stack)) - before).toBe(200);
      await stack.accumulated();
      expect(await stack.invariant()).toMatchObject({ ok: true, eventsMsat: String(203 * 10_000) });
    } finally {
      await second.close();
    }
  });

  it('stores the valid events of a batch and names each invalid one by index, field and code', async () => {
    const before = await eventCount(stack);
    const res = await post({
      events: [
        listening('ok-1'),
        listening('bad-1', { seconds: 0 }),
        listening('ok-2'),
        listening('bad-2', { satsPerMinute: 1.5, value: { type: 'lightning', method: 'keysend', recipients: [] } }),
        { feedGuid: 'no id at all' },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.body).toMatchObject({ accepted: 2, duplicates: 0, conflicts: 0, rejected: 3 });
    expect(res.body.events.slice(0, 4)).toEqual([
      { index: 0, id: 'ok-1', status: 'accepted' },
      {
        index: 1,
        id: 'bad-1',
        status: 'rejected',
        code: 'invalid_request',
        issues: [{ path: 'events[1].seconds', message: 'must be a number of seconds from 0.001 to 3600 (timed in whole milliseconds, rounded half up)' }],
      },
      { index: 2, id: 'ok-2', status: 'accepted' },
      {
        index: 3,
        id: 'bad-2',
        status: 'rejected',
        code: 'invalid_request',
        issues: [
          { path: 'events[3].satsPerMinute', message: 'must be a whole number from 1 to 100000' },
          { path: 'events[3].value.recipients', message: 'at least one recipient is required' },
        ],
      },
    ]);
    expect(res.body.events[4]).toMatchObject({ index: 4, id: null, status: 'rejected', code: 'invalid_request' });
    expect(res.body.events[4].issues).toContainEqual({ path: 'events[4].id', message: 'must be a string of 1 to 128 characters' });
    expect((await eventCount(stack)) - before).toBe(2);
    expect((await stack.http.get('/v1/events/ok-2')).status).toBe(200);
    expect((await stack.http.get('/v1/events/bad-1')).status).toBe(404);
    // Resending the same batch gets the same answers, the stored ones now duplicates.
    const resent = await post({ events: [listening('ok-1'), listening('bad-1', { seconds: 0 })] });
    expect(resent.body).toMatchObject({
      accepted: 0,
      duplicates: 1,
      rejected: 1,
      events: [
        { index: 0, status: 'duplicate' },
        { index: 1, status: 'rejected', code: 'invalid_request' },
      ],
    });
  });

  it('tells a duplicate (same id, same content) from a conflict (same id, other content), across requests and within one', async () => {
    expect((await post({ events: [listening('same-1'), listening('same-2')] })).body).toMatchObject({ accepted: 2 });
    const before = await eventCount(stack);
    const res = await post({
      events: [
        listening('same-1'), // stored before, same content
        listening('same-2', { satsPerMinute: 11 }), // stored before, other content
        listening('new-1'),
        listening('new-1'), // again in this request, same content
        listening('new-1', { seconds: 30 }), // again in this request, other content
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      accepted: 1,
      duplicates: 2,
      conflicts: 2,
      rejected: 0,
      events: [
        { index: 0, id: 'same-1', status: 'duplicate' },
        {
          index: 1,
          id: 'same-2',
          status: 'conflict',
          issues: [
            { path: 'events[1].id', message: 'event id "same-2" was stored before with different content; nothing changed (a new event needs a new id)' },
          ],
        },
        { index: 2, id: 'new-1', status: 'accepted' },
        { index: 3, id: 'new-1', status: 'duplicate' },
        {
          index: 4,
          id: 'new-1',
          status: 'conflict',
          issues: [{ path: 'events[4].id', message: 'event id "new-1" comes earlier in this request (events[2]) with different content; nothing changed' }],
        },
      ],
    });
    expect((await eventCount(stack)) - before).toBe(1);
    // Nothing changed: the stored event keeps its first content.
    expect((await stack.http.get('/v1/events/same-2')).body.amountMsat).toBe('10000');
    expect((await stack.http.get('/v1/events/new-1')).body.amountMsat).toBe('10000');
  });

  it('answers 400 events_rejected, storing nothing, when no event was stored; its issues name each event with its code, its results as a 202 would', async () => {
    await post({ events: [listening('taken')] });
    const before = await eventCount(stack);
    const res = await post({ events: [listening('taken', { seconds: 61 }), listening('bad-3', { position: -1 }), listening('late', { seconds: 0 })] });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'events_rejected',
      message: 'no event was stored: 2 rejected, 1 conflicting with an event of the same id; issues name each, with its code',
      issues: [
        {
          index: 0,
          code: 'conflict',
          path: 'events[0].id',
          message: 'event id "taken" was stored before with different content; nothing changed (a new event needs a new id)',
        },
        {
          index: 1,
          code: 'invalid_request',
          path: 'events[1].position',
          message: 'must be a number of seconds from 0 to 604800 (timed in whole milliseconds, rounded half up)',
        },
        {
          index: 2,
          code: 'invalid_request',
          path: 'events[2].seconds',
          message: 'must be a number of seconds from 0.001 to 3600 (timed in whole milliseconds, rounded half up)',
        },
      ],
      // Beside the error shape, the totals and per-event results a 202 carries (their issues listed once, above).
      accepted: 0,
      duplicates: 0,
      conflicts: 1,
      rejected: 2,
      events: [
        { index: 0, id: 'taken', status: 'conflict' },
        { index: 1, id: 'bad-3', status: 'rejected', code: 'invalid_request' },
        { index: 2, id: 'late', status: 'rejected', code: 'invalid_request' },
      ],
    });
    expect(await eventCount(stack)).toBe(before);
    // A batch of duplicates only is a 202: those events are stored.
    expect(await post({ events: [listening('taken')] })).toMatchObject({ status: 202, body: { duplicates: 1 } });
  });

  it.each([
    ['no events list', {}, 400, 'invalid_request'],
    ['an empty list', { events: [] }, 400, 'invalid_request'],
    ['more than 500 events', { events: Array.from({ length: 501 }, (_, i) => listening(`many-${i}`)) }, 400, 'invalid_request'],
    ['a JSON array body', [], 400, 'invalid_request'],
    ['malformed JSON', '{"events": [', 400, 'invalid_json'],
  ])('answers %s with a clear JSON 4xx and accepts nothing', async (_, body, status, error) => {
    const before = await eventCount(stack);
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error, message: expect.any(String) });
    expect(await eventCount(stack)).toBe(before);
  });

  // Stored ids are judged before any ceiling: a resent event that was stored is a duplicate (or a conflict) even
  // when MAX_EVENT_SATS was lowered or a listener cap added since, and resent events take nothing of MAX_REQUEST_SATS.
  it('answers a resent event stored before as a duplicate or conflict whatever ceilings changed since', async () => {
    const post = await appKey('ceilings-changed');
    expect((await post(listening('cc-1', { satsPerMinute: 10 }), listening('cc-2', { satsPerMinute: 50 }))).body).toMatchObject({ accepted: 2 });
    await stack.api.get(TenantsService).setCaps('ceilings-changed', { listenerDayCapMsat: 1_000_000n });
    const config = stack.api.get<unknown, { MAX_EVENT_SATS: number; MAX_REQUEST_SATS: number }>(APP_CONFIG);
    const before = { ...config };
    Object.assign(config, { MAX_EVENT_SATS: 20, MAX_REQUEST_SATS: 20 }); // an operator lowered them (a restart)
    try {
      const again = await post(
        listening('cc-1', { satsPerMinute: 10 }),
        listening('cc-2', { satsPerMinute: 50, listenerId: 'alice' }),
        listening('cc-3', { satsPerMinute: 20, listenerId: 'alice' }), // fits MAX_REQUEST_SATS: the resent count nothing
      );
      expect(answers(again)).toEqual(['duplicate', 'conflict', 'accepted']);
    } finally {
      Object.assign(config, { MAX_EVENT_SATS: before.MAX_EVENT_SATS, MAX_REQUEST_SATS: before.MAX_REQUEST_SATS });
    }
  });

  // The first copy of an id that is stored (or was stored before) stands for it: a later copy after a rejected one
  // is judged on its own.
  it('judges a copy of an id on its own when the earlier copy in the request was rejected', async () => {
    const post = await appKey('rejected-copy');
    const res = await post(
      listening('rc-1', { satsPerMinute: 100_000, seconds: 3600 }),
      listening('rc-1', { satsPerMinute: 1 }),
      listening('rc-1', { satsPerMinute: 1 }),
    );
    expect(answers(res)).toEqual(['event_amount_too_large', 'accepted', 'duplicate']);
    expect(answers(await post(listening('rc-1', { satsPerMinute: 1 })))).toEqual(['duplicate']);
    // Refused by a cap: the later copies are judged on their own too (the first that fits is stored).
    const capped = await appKey('rejected-copy-capped');
    await stack.api.get(TenantsService).setCaps('rejected-copy-capped', { dayCapMsat: 5_000n });
    const copies = [10, 2, 2, 3].map((sats) => listening('rcc-1', { satsPerMinute: sats }));
    expect(answers(await capped(...copies))).toEqual(['app_day_cap_exceeded', 'accepted', 'duplicate', 'conflict']);
    expect((await stack.http.get('/v1/events/rcc-1?app=rejected-copy-capped')).body.amountMsat).toBe('2000');
  });

  // An accepted event is owed something: listening worth less than 1 msat at its rate is refused.
  it('rejects an event worth 0 msat, naming the least listening it needs', async () => {
    const res = await post({ events: [listening('zero-1', { satsPerMinute: 1, seconds: 0.059 }), listening('zero-2', { satsPerMinute: 1, seconds: 0.06 })] });
    expect(res.status).toBe(202);
    expect(res.body.events).toEqual([
      {
        index: 0,
        id: 'zero-1',
        status: 'rejected',
        code: 'invalid_request',
        issues: [
          {
            path: 'events[0].seconds',
            message: 'worth 0 msat: 0.059 seconds at 1 sats per minute is less than 1 msat; send at least 60 ms of listening in one event',
          },
        ],
      },
      { index: 1, id: 'zero-2', status: 'accepted' },
    ]);
    expect((await stack.http.get('/v1/events/zero-2')).body.amountMsat).toBe('1');
  });

  it('answers a wrong content type with 415 JSON', async () => {
    const res = await post('events=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
  });

  it('answers a body over the 5 MB limit with 413 JSON', async () => {
    const res = await post({ events: [listening('huge', { itemTitle: 'x'.repeat(6 * 1024 * 1024) })] });
    expect(res).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
  });

  it('answers unknown ids with 404 JSON', async () => {
    expect(await stack.http.get('/v1/events/never-sent')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await stack.http.get('/v1/payouts/999999')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await stack.http.get('/v1/recipients?address=nope')).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});
