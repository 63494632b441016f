import type { INestApplication } from '@nestjs/common';
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

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('accepts a batch with 202 and counts each event id once, ever', async () => {
    const first = await post({ events: [listening('dup-1'), listening('dup-2'), listening('dup-1')] });
    expect(first).toMatchObject({
      status: 202,
      body: {
        accepted: 2,
        duplicates: 1,
        events: [
          { id: 'dup-1', status: 'accepted' },
          { id: 'dup-2', status: 'accepted' },
          { id: 'dup-1', status: 'duplicate' },
        ],
      },
    });
    const again = await post({ events: [listening('dup-2'), listening('dup-3')] });
    expect(again.body).toMatchObject({ accepted: 1, duplicates: 1 });
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

  it('rejects the whole request when any event is invalid, naming each bad event by index and field', async () => {
    const before = await eventCount(stack);
    const res = await post({
      events: [
        listening('ok-1'),
        listening('bad-1', { seconds: 0 }),
        listening('ok-2'),
        listening('bad-2', { satsPerMinute: 1.5, value: { type: 'lightning', method: 'keysend', recipients: [] } }),
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      message: '2 of the events are invalid; nothing was accepted',
      issues: [
        { index: 1, path: 'events[1].seconds', message: 'must be a number of seconds from 0.001 to 3600 with at most 6 decimal places' },
        { index: 3, path: 'events[3].satsPerMinute', message: 'must be a whole number from 1 to 100000' },
        { index: 3, path: 'events[3].value.recipients', message: 'at least one recipient is required' },
      ],
    });
    expect(await eventCount(stack)).toBe(before);
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
