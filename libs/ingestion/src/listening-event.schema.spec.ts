import { z } from 'zod';
import { pubkey } from '../../money/src/testing/value-builders.js';
import { toIssues } from '@splitstream/money';
import { ingestRequestSchema, type ListeningEvent, listeningEventSchema, parseListeningEvent, payloadOf, sameJsonText } from './listening-event.schema.js';

const event = (extra: object = {}) => ({
  id: 'app-generated-unique-id-1',
  feedGuid: 'feed',
  itemGuid: 'item',
  position: 0,
  seconds: 60,
  satsPerMinute: 10,
  value: { type: 'lightning', method: 'keysend', recipients: [{ name: 'Host', type: 'node', address: pubkey(1), split: 1 }] },
  ...extra,
});
const issuesOf = (input: unknown) => {
  const result = listeningEventSchema.safeParse(input);
  if (result.success) throw new Error('expected the event to be rejected');
  return toIssues(result.error);
};
const accepted = (input: unknown) => listeningEventSchema.parse(input);

const SECONDS_RULE = 'must be a number of seconds from 0.001 to 3600 (timed in whole milliseconds, rounded half up)';
const POSITION_RULE = 'must be a number of seconds from 0 to 604800 (timed in whole milliseconds, rounded half up)';

describe('listeningEventSchema', () => {
  it('accepts decimal positions and lengths as players report them, timed in whole milliseconds', () => {
    expect(accepted(event({ position: 1830.417, seconds: 9.985 }))).toMatchObject({ position: 1830.417, seconds: 9.985 });
    expect(accepted(event({ position: 604_800, seconds: 3_600 }))).toMatchObject({ position: 604_800, seconds: 3_600 });
    expect(accepted(event({ seconds: 0.001, satsPerMinute: 60 }))).toMatchObject({ seconds: 0.001 }); // 1 msat
    expect(Object.is(accepted(event({ position: -0 })).position, 0)).toBe(true); // -0 is stored as 0
    // A player's float noise is stored as the milliseconds it rounds to (so a resend with other noise is the same).
    expect(accepted(event({ position: 1830.4170068027211, seconds: 9.985000000000014 }))).toMatchObject({ position: 1830.417, seconds: 9.985 });
    expect(accepted(event({ position: 12.0000001, seconds: 0.1 + 0.2 }))).toMatchObject({ position: 12, seconds: 0.3 });
    expect(accepted(event({ position: 604_800.0004, seconds: 3599.9999999999995 }))).toMatchObject({ position: 604_800, seconds: 3_600 });
    expect(accepted(event({ seconds: 0.0005, satsPerMinute: 60 }))).toMatchObject({ seconds: 0.001 }); // half a ms rounds up
  });

  it.each([
    ['seconds', 0, SECONDS_RULE],
    ['seconds', 0.0004999, SECONDS_RULE], // 0 ms
    ['seconds', 1e-300, SECONDS_RULE],
    ['seconds', 3600.0005, SECONDS_RULE], // 3600.001 s
    ['seconds', -0, SECONDS_RULE],
    ['seconds', -1, SECONDS_RULE],
    ['seconds', '60', SECONDS_RULE],
    ['position', -0.5, POSITION_RULE],
    ['position', 1e21, POSITION_RULE],
    ['position', 604_800.0005, POSITION_RULE],
  ])('refuses %s %p', (field, value, message) => {
    expect(issuesOf(event({ [field]: value }))).toEqual([{ path: field, message }]);
  });

  it('refuses unknown fields anywhere, each on its own path, suggesting the field meant', () => {
    const input = event({ listenerID: 'abc', satsperminute: 10, colour: 'red' });
    (input.value as Record<string, unknown>).timeSplit = [];
    (input.value.recipients[0] as Record<string, unknown>).customkey = '696969';
    expect(issuesOf(input)).toEqual([
      { path: 'value.recipients[0].customkey', message: 'unknown field; did you mean customKey?' },
      { path: 'value.timeSplit', message: 'unknown field; did you mean timeSplits?' },
      { path: 'listenerID', message: 'unknown field; did you mean listenerId?' },
      { path: 'satsperminute', message: 'unknown field; did you mean satsPerMinute?' },
      { path: 'colour', message: 'unknown field' },
    ]);
  });

  it('reports unknown fields also when other fields are invalid', () => {
    expect(issuesOf(event({ seconds: 0, Position: 1 }))).toEqual([
      { path: 'seconds', message: SECONDS_RULE },
      { path: 'Position', message: 'unknown field; did you mean position?' },
    ]);
  });

  it('accepts the value block in each shape and stores the one internal shape', () => {
    const recipients = [{ name: 'Host', type: 'node', address: pubkey(1), split: 1 }];
    const stored = accepted(event()).value;
    expect(accepted(event({ value: { model: { type: 'lightning', method: 'keysend', suggested: '0.00000005000' }, destinations: recipients } })).value).toEqual(
      stored,
    );
    expect(accepted(event({ value: { type: 'lightning', method: 'keysend', suggested: 5e-8, recipients, valueTimeSplits: [] } })).value).toEqual(stored);
  });

  it('still converts to JSON Schema for the OpenAPI document, showing the three value-block shapes, closed', () => {
    const json = z.toJSONSchema(listeningEventSchema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<string, any>;
    expect(json.additionalProperties).toBe(false);
    expect(json.properties.seconds.type).toBe('number');
    expect(json.properties.id.pattern).toBe('^[\\s\\S]{1,128}$');
    expect(new RegExp(json.properties.id.pattern).test('app-generated-unique-id-1')).toBe(true);
    const shapes = json.properties.value.anyOf as Record<string, any>[];
    expect(shapes.map((s) => Object.keys(s.properties))).toEqual([
      ['type', 'method', 'suggested', 'recipients', 'timeSplits'],
      ['type', 'method', 'suggested', 'recipients', 'valueTimeSplits'],
      ['model', 'destinations'],
    ]);
    expect(shapes.every((s) => s.additionalProperties === false)).toBe(true);
  });
});

describe('listeningEventSchema: worth and the bLIP-10 record', () => {
  it('refuses an event worth 0 msat, naming the least listening it needs, and accepts 1 msat', () => {
    expect(issuesOf(event({ seconds: 0.005, satsPerMinute: 10 }))).toEqual([
      { path: 'seconds', message: 'worth 0 msat: 0.005 seconds at 10 sats per minute is less than 1 msat; send at least 6 ms of listening in one event' },
    ]);
    expect(accepted(event({ seconds: 0.006, satsPerMinute: 10 }))).toMatchObject({ seconds: 0.006 });
    // Invalid seconds are reported by their own rule only.
    expect(issuesOf(event({ seconds: 0 }))).toEqual([{ path: 'seconds', message: SECONDS_RULE }]);
  });

  it('names a remote item too long for the bLIP-10 record on the path the app sent it', () => {
    const recipients = [{ type: 'node', address: pubkey(1), split: 1 }];
    const remoteItem = { feedGuid: 'g'.repeat(256), itemGuid: 'h'.repeat(256) };
    const long = { feedGuid: 'f'.repeat(200), itemGuid: 'i'.repeat(200) };
    const partytime = { type: 'lightning', method: 'keysend', recipients, valueTimeSplits: [{ startTime: 0, duration: 10, remoteItem, recipients }] };
    const native = {
      type: 'lightning',
      method: 'keysend',
      recipients,
      timeSplits: [{ startTime: 0, duration: 10, remoteFeedGuid: remoteItem.feedGuid, remoteItemGuid: remoteItem.itemGuid, recipients }],
    };
    expect(issuesOf(event({ ...long, value: partytime })).map((i) => i.path)).toEqual(['value.valueTimeSplits[0].remoteItem.feedGuid']);
    expect(issuesOf(event({ ...long, value: native })).map((i) => i.path)).toEqual(['value.timeSplits[0].remoteFeedGuid']);
  });
});

describe('parseListeningEvent: value blocks judged once', () => {
  const recipients = [{ type: 'node', address: pubkey(1), split: 1 }];
  const remoteItem = { feedGuid: 'g'.repeat(256), itemGuid: 'h'.repeat(256) };
  const partytime = { type: 'lightning', method: 'keysend', recipients, valueTimeSplits: [{ startTime: 0, duration: 10, remoteItem, recipients }] };
  const judged = (input: unknown) => {
    const result = parseListeningEvent(structuredClone(input));
    return result.success ? { data: result.data } : { issues: toIssues(result.error) };
  };

  it("gives a block seen before exactly the block schema's answer, in every shape", () => {
    for (const value of [event().value, partytime, { model: { type: 'lightning', method: 'keysend' }, destinations: recipients }]) {
      const expected = { data: listeningEventSchema.parse(structuredClone(event({ value }))) };
      expect(judged(event({ value }))).toEqual(expected);
      expect(judged(event({ value }))).toEqual(expected); // remembered now
    }
  });

  it("still judges each event's own fields, and its record with the remembered block's remote items", () => {
    expect(judged(event({ value: partytime }))).toHaveProperty('data');
    expect(judged(event({ value: partytime, seconds: 0 }))).toEqual({ issues: [{ path: 'seconds', message: SECONDS_RULE }] });
    const long = { feedGuid: 'f'.repeat(200), itemGuid: 'i'.repeat(200) };
    expect(judged(event({ ...long, value: partytime }))).toEqual({
      issues: [expect.objectContaining({ path: 'value.valueTimeSplits[0].remoteItem.feedGuid' })],
    });
  });

  it('never remembers a block that failed: its issues come in full each time', () => {
    const bad = { type: 'lightning', method: 'keysend', recipients: [{ type: 'node', address: 'nope', split: 1 }] };
    const first = judged(event({ value: bad }));
    expect(first).toHaveProperty('issues');
    expect(judged(event({ value: bad }))).toEqual(first);
  });

  it('tells a block from the one sent just before by its whole text, however small the difference', () => {
    const host = event().value;
    const variants = [
      host,
      { ...host, recipients: [{ ...host.recipients[0]!, split: 2 }] },
      { ...host, recipients: [{ ...host.recipients[0]!, split: '2' }] },
      { ...host, recipients: [...host.recipients, { name: 'Guest', type: 'node', address: pubkey(2), split: 1 }] },
      { method: 'keysend', type: 'lightning', recipients: host.recipients }, // the same fields in another order
      { ...host, recipients: [{ ...host.recipients[0]!, address: pubkey(3) }] },
      { ...host, recipients: { 0: host.recipients[0] } },
      host,
    ];
    for (const value of [...variants, ...variants.reverse()]) {
      const expected = listeningEventSchema.safeParse(structuredClone(event({ value })));
      expect(judged(event({ value }))).toEqual(expected.success ? { data: expected.data } : { issues: toIssues(expected.error) });
    }
  });

  it('writes the stored payload as the event JSON, a remembered block included', () => {
    for (const input of [
      event(),
      event(),
      event({ value: partytime, listenerId: 'l-1' }),
      event({ value: undefined, feedUrl: 'https://example.com/feed.xml' }),
    ]) {
      const { data } = judged(input) as { data: ListeningEvent };
      expect(payloadOf(data)).toBe(JSON.stringify(data));
    }
  });

  it('shares a remembered block frozen, so no event can change what another stores', () => {
    const { data } = judged(event({ value: partytime })) as { data: { value: object } };
    const again = judged(event({ value: partytime, id: 'another' })) as { data: { value: object } };
    expect(again.data.value).toBe(data.value); // the very block judged before, not judged again
    expect(Object.isFrozen(data.value)).toBe(true);
  });
});

describe('sameJsonText', () => {
  it('holds exactly when JSON.stringify gives the same text', () => {
    const pairs: [unknown, unknown][] = [
      [
        { a: 1, b: [1, 'x', null] },
        { a: 1, b: [1, 'x', null] },
      ],
      [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      [{ a: 1 }, { a: 1, b: 2 }],
      [
        { a: 1, b: 2 },
        { a: 1, c: 2 },
      ],
      [[1, 2], { 0: 1, 1: 2 }],
      [[], {}],
      [
        [1, [2]],
        [1, [3]],
      ],
      [1, '1'],
      [null, {}],
      [0, -0],
      ['é', 'e\u0301'],
    ];
    for (const [a, b] of pairs) expect([a, b, sameJsonText(a, b)]).toEqual([a, b, JSON.stringify(a) === JSON.stringify(b)]);
  });
});

describe('ingestRequestSchema', () => {
  it('makes the request itself invalid on an unknown top-level field', () => {
    const result = ingestRequestSchema.safeParse({ events: [event()], batch: 1, Events: [] });
    expect(result.success).toBe(false);
    expect(toIssues(result.error!)).toEqual([
      { path: 'batch', message: 'unknown field' },
      { path: 'Events', message: 'unknown field; did you mean events?' },
    ]);
  });

  it('counts node recipients of every shape against the per-request bound', () => {
    const many = (from: number) => Array.from({ length: 100 }, (_, i) => ({ type: 'node', address: pubkey(from + i), split: 1 }));
    const events = Array.from({ length: 11 }, (_, k) =>
      k % 2 ? { value: { destinations: many(k * 100) } } : { value: { valueTimeSplits: [{ recipients: many(k * 100) }] } },
    );
    const result = ingestRequestSchema.safeParse({ events });
    expect(toIssues(result.error!)).toEqual([{ path: 'events', message: '1100 distinct node recipients; at most 1000 per request are allowed' }]);
    // An address in another case is the same recipient: 1,000 keys sent in two cases each are within the bound.
    const twoCases = (from: number) => many(from).flatMap((r) => [r, { ...r, address: r.address.toUpperCase() }]);
    const sameKeys = Array.from({ length: 10 }, (_, k) => ({ value: { recipients: twoCases(k * 100) } }));
    expect(ingestRequestSchema.safeParse({ events: sameKeys }).success).toBe(true);
    const oneMore = [...sameKeys, { value: { recipients: [{ type: 'node', address: pubkey(5_000).toUpperCase(), split: 1 }] } }];
    expect(toIssues(ingestRequestSchema.safeParse({ events: oneMore }).error!)).toEqual([
      { path: 'events', message: '1001 distinct node recipients; at most 1000 per request are allowed' },
    ]);
  });
});

describe('feedUrl of an event sent by reference', () => {
  const byReference = (feedUrl: string) => ({ ...event({ feedUrl }), value: undefined });

  it('accepts an http(s) URL', () => {
    expect(listeningEventSchema.safeParse(byReference('https://feeds.example/show.xml?x=1')).success).toBe(true);
  });

  it.each([
    ['no URL', 'http://exa mple.com/feed.xml', 'must be an http(s) URL: the feed the value block is read from'],
    ['another scheme', 'ftp://feeds.example/show.xml', 'must be an http(s) URL: the feed the value block is read from'],
    ['credentials', 'http://user:secret@feeds.example/feed.xml', 'must not carry credentials (user:password@): feeds are read without them'],
  ])('refuses %s', (_what, feedUrl, message) => {
    expect(issuesOf(byReference(feedUrl))).toEqual([{ path: 'feedUrl', message }]);
  });
});
