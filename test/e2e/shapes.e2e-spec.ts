import { readFileSync } from 'node:fs';
import { parseFeed } from 'podcast-partytime';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { request } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const node = (name: string, address: string, split: number, extra: object = {}) => ({ name, type: 'node', address, split, ...extra });
const listening = (id: string, value: object, extra: object = {}) => ({
  id,
  feedGuid: '5bdbd9a1-7e27-5d3f-8b8b-0c8b3fd1a001',
  itemGuid: 'shapes-episode-1',
  position: 59.5,
  seconds: 61.25,
  satsPerMinute: 120,
  value,
  ...extra,
});

// The fixture episode's block as podcast-partytime parses it, the remote item's recipients read from the music
// feed (as an app does before it pays a remote split).
function partytimeBlock() {
  const block = parseFeed(fixture('value-show.xml'))!.items[0]!.value!;
  const song = parseFeed(fixture('value-music.xml'))!.items[0]!.value!;
  for (const split of block.valueTimeSplits ?? []) if (split.type === 'remoteItem') Object.assign(split, { recipients: song.recipients });
  return block;
}

// The same block in splitstream's own shape and as the Podcast Index API returns it (no time splits there).
const native = (block: ReturnType<typeof partytimeBlock>) => ({
  type: block.type,
  method: block.method,
  recipients: block.recipients,
  timeSplits: (block.valueTimeSplits ?? []).map((s) => ({
    startTime: s.startTime,
    duration: s.duration,
    ...(s.type === 'remoteItem' && { remotePercentage: s.remotePercentage, remoteFeedGuid: s.remoteItem.feedGuid, remoteItemGuid: s.remoteItem.itemGuid }),
    recipients: (s as { recipients: unknown[] }).recipients,
  })),
});
const podcastIndex = (block: ReturnType<typeof partytimeBlock>) => ({
  model: { type: block.type, method: block.method, suggested: '0.00000005000' },
  destinations: block.recipients,
});

describe('strict bodies, decimal seconds and the value-block shapes (e2e)', () => {
  let stack: Stack;
  const post = (body: unknown) => stack.http.post('/v1/events', body);
  const allocations = async (id: string) => {
    const res = await stack.http.get(`/v1/events/${id}`);
    expect(res.status).toBe(200);
    return Object.fromEntries(
      (res.body.allocations as { recipient: { address: string }; remoteItemGuid: string | null; amountMsat: string }[]).map((a) => [
        `${a.recipient.address}${a.remoteItemGuid ? `@${a.remoteItemGuid}` : ''}`,
        a.amountMsat,
      ]),
    );
  };

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('books the same amounts for one block sent in each of the three shapes, with decimal positions and lengths', async () => {
    const block = partytimeBlock();
    const noSplits = { ...native(block), timeSplits: [] };
    await stack.postEvents([
      listening('shape-partytime', block),
      listening('shape-native', native(block)),
      listening('shape-index', podcastIndex(block)),
      listening('shape-native-no-splits', noSplits),
    ]);
    await stack.accumulated();
    // 61.25 s at 120 sats a minute is 122500 msat; listened from 59.5 s, the song (60 s to 90.5 s) is inside.
    const fromFeed = await allocations('shape-partytime');
    expect(Object.values(fromFeed).reduce((a, b) => a + BigInt(b), 0n)).toBe(122_500n);
    expect(fromFeed).toHaveProperty(['032b22efda32491a9e0294339ca3da761f7d36cfc8814c1b29ca731921025ff695@song-1']);
    expect(fromFeed).toEqual(await allocations('shape-native'));
    expect(await allocations('shape-index')).toEqual(await allocations('shape-native-no-splits'));
    expect((await stack.invariant()).ok).toBe(true);
  });

  it('owes a recipient with split 0 nothing and never pays it; the other recipient gets everything', async () => {
    const zero = pubkey(0x2e80);
    const full = pubkey(0xf011);
    await stack.postEvents([
      listening(
        'split-zero',
        { type: 'lightning', method: 'keysend', recipients: [node('Zero', zero, 0), node('Full', full, 100)] },
        { position: 0, seconds: 30, satsPerMinute: 100 },
      ),
    ]);
    await stack.accumulated();
    expect(await allocations('split-zero')).toEqual({ [full]: '50000' });
    const run = await stack.runPayout();
    expect(run.status).toBe('completed');
    const paid = await stack.sim.payments();
    expect(paid.filter((p) => p.destination === zero)).toEqual([]);
    expect(paid.filter((p) => p.destination === full).map((p) => p.amount)).toEqual([50]);
    expect(await stack.recipient(zero)).toMatchObject({ status: 404 });
    // The first test's events (listened from 59.5 s) were paid in this run too: bLIP-10's ts is whole seconds.
    const artist = paid.find((p) => p.destination === '032b22efda32491a9e0294339ca3da761f7d36cfc8814c1b29ca731921025ff695');
    expect(artist?.blip10).toMatchObject({ ts: 59, remote_item_guid: 'song-1' });
  });

  it('rounds seconds to whole milliseconds, half up, whatever float noise a player sends, and refuses what rounds out of range', async () => {
    const host = { type: 'lightning', method: 'keysend', recipients: [node('Host', pubkey(0x5ec), 1)] };
    await stack.postEvents([
      listening('half-ms', host, { position: -0, seconds: 10.0005, satsPerMinute: 60 }), // 10001 ms at 1 sat per second
      listening('under-half-ms', host, { position: 0.25, seconds: 10.000499, satsPerMinute: 60 }), // 10000 ms
      listening('float-noise', host, { position: 1830.4170068027211, seconds: 9.985000000000014, satsPerMinute: 60 }), // 9985 ms
    ]);
    await stack.accumulated();
    for (const [id, msat] of [
      ['half-ms', '10001'],
      ['under-half-ms', '10000'],
      ['float-noise', '9985'],
    ]) {
      expect((await stack.http.get(`/v1/events/${id}`)).body.amountMsat).toBe(msat);
    }
    // The same listening with other noise is the same content: a duplicate.
    const resent = await stack.http.post('/v1/events', {
      events: [listening('float-noise', host, { position: 1830.417, seconds: 9.985, satsPerMinute: 60 })],
    });
    expect(resent.body.events).toEqual([{ index: 0, id: 'float-noise', status: 'duplicate' }]);
    const raw = (seconds: string, position = '0') =>
      stack.http.post(
        '/v1/events',
        JSON.parse(
          JSON.stringify({ events: [listening('trick', host)] })
            .replace('"seconds":61.25', `"seconds":${seconds}`)
            .replace('"position":59.5', `"position":${position}`),
        ),
      );
    const rule = 'must be a number of seconds from 0.001 to 3600 (timed in whole milliseconds, rounded half up)';
    for (const seconds of ['1e-300', '0.0004', '3600.0005', '-0']) {
      const res = await raw(seconds);
      expect(res.status).toBe(400);
      expect(res.body.issues).toEqual([expect.objectContaining({ path: 'events[0].seconds', message: rule })]);
    }
    const position = await raw('1', '604800.0005');
    expect(position.body.issues).toEqual([
      expect.objectContaining({
        path: 'events[0].position',
        message: 'must be a number of seconds from 0 to 604800 (timed in whole milliseconds, rounded half up)',
      }),
    ]);
  });

  it('refuses unknown fields: top-level ones make the request invalid, others name their path and the field meant', async () => {
    const host = { type: 'lightning', method: 'keysend', recipients: [node('Host', pubkey(0x5ec), 1)] };
    const topLevel = await post({ events: [listening('strict-1', host)], batch: 1 });
    expect(topLevel).toMatchObject({ status: 400, body: { error: 'invalid_request', issues: [{ path: 'batch', message: 'unknown field' }] } });
    const nested = await post({
      events: [listening('strict-2', { ...host, recipients: [node('Host', pubkey(0x5ec), 1, { Fee: false })] }, { listenerID: 'abc' })],
    });
    expect(nested.status).toBe(400);
    expect(nested.body.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'events[0].listenerID', message: 'unknown field; did you mean listenerId?' }),
        expect.objectContaining({ path: 'events[0].value.recipients[0].Fee', message: 'unknown field; did you mean fee?' }),
      ]),
    );
    expect((await stack.http.get('/v1/events/strict-2')).status).toBe(404);
  });
  it('takes a native block that carries suggested (as podcast:value does) with its time splits', async () => {
    const timeSplits = [{ startTime: 0, duration: 30, recipients: [node('Guest', pubkey(0x5ed), 1)] }];
    const block = { type: 'lightning', method: 'keysend', suggested: '0.00000005000', recipients: [node('Host', pubkey(0x5ec), 1)], timeSplits };
    const res = await post({ events: [listening('suggested-1', block, { position: 0, seconds: 60, satsPerMinute: 60 })] });
    expect(res).toMatchObject({ status: 202, body: { accepted: 1 } });
    await stack.accumulated();
    expect(await allocations('suggested-1')).toEqual({ [pubkey(0x5ec)]: '30000', [pubkey(0x5ed)]: '30000' });
  });
  // Hostile JSON gets a 4xx in the one error shape (or a 202 naming what it rejected), never a 500.
  it('answers hostile JSON with a 4xx, never a 500', async () => {
    const block = { type: 'lightning', method: 'keysend', recipients: [node('Host', pubkey(0x5ec), 1)] };
    const one = (extra: object) => JSON.stringify({ events: [listening('hostile-1', block, extra)] });
    const bodies = [
      '{"events":[{"__proto__":{"id":"x"}}]}',
      '{"__proto__":{"events":[]}}',
      one({ constructor: { prototype: { polluted: 1 } } }),
      one({ seconds: '60' }),
      one({ seconds: 1e21 }),
      one({ seconds: 5e-324 }),
      one({ satsPerMinute: 1e21 }),
      one({ position: 1e21 }),
      one({ value: [] }),
      one({ value: { ...block, recipients: {} } }),
      one({ value: { ...block, timeSplits: [{ startTime: 1e308, duration: 1e308, recipients: block.recipients }] } }),
      one({ value: { ...block, recipients: [{ type: 'node', address: { toLowerCase: 1 }, split: 1 }] } }),
      '{"events":[' + '1,'.repeat(499) + '1]}',
      '{"events":' + '['.repeat(40) + ']'.repeat(40) + '}',
      '{"events":[null]}',
      '{"events":[{"id":"n","value":{"recipients":[null],"timeSplits":[null]}}]}',
      '{"events":[{"id":"n","value":{"model":null,"destinations":[null]}}]}',
      '{"events":[{"id":"n","value":{"valueTimeSplits":[{"recipients":[null],"remoteItem":null}]}}]}',
      '{"events":[{"id":"h-2","position":-0,"seconds":0.0005,"satsPerMinute":1}]}',
    ];
    const statuses: { body: string; status: number }[] = [];
    for (const body of bodies) {
      const res = await request(stack.baseUrl, '/v1/events', {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
        body,
      });
      statuses.push({ body: body.slice(0, 60), status: res.status });
    }
    expect(statuses.filter((a) => a.status >= 500)).toEqual([]);
  });
});
