import { createHash } from 'node:crypto';
import { parseFeed } from 'podcast-partytime';
import { query } from '../support/database.js';
import { type FeedServer, INDEX_KEY, INDEX_SECRET, indexAnswer, startFeedServer } from '../support/feed-server.js';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { apiClient, eventually } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const SHOW = '7d1e2f3a-4b5c-5d6e-8f90-a1b2c3d4e5f6';
const MUSIC = 'b1c2d3e4-f5a6-5b7c-8d9e-0f1a2b3c4d5e';
const MIXES = 'c2d3e4f5-a6b7-5c8d-9e0f-1a2b3c4d5e6f';
const HOST = '025601570cb47f238d2b0286db4a990fa0f3ba28d1a319f5e7cf55c2a2444da7cc';
const PRODUCER = '03605bdb019981718b986d0f07e834cb0d9deb8360ffb7f61df982345ef27a7479';
const GUEST = '025edd5cc23c51e87a497ca815d5dce0f8ab52554f849ed8995de64c5f34ce7143';
const ARTIST = '032b22efda32491a9e0294339ca3da761f7d36cfc8814c1b29ca731921025ff695';
const DJ = '03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a';
const MAX_ATTEMPTS = 2;

const listening = (id: string, itemGuid: string, extra: object = {}) => ({
  id,
  feedGuid: SHOW,
  itemGuid,
  position: 0,
  seconds: 60,
  satsPerMinute: 60,
  ...extra,
});

type Block = NonNullable<NonNullable<ReturnType<typeof parseFeed>>['value']>;

// What an app does today before it posts an event: parse the feed, take the item's block (else the channel's) and
// read each remote item's recipients from the remote feed (splitstream's own shape, with the remote GUIDs).
function inlineBlock(show: string, music: string, itemGuid: string) {
  const feed = parseFeed(show)!;
  const block: Block = feed.items.find((i) => i.guid === itemGuid)?.value ?? feed.value!;
  const song = parseFeed(music)!.items[0]!.value!;
  return {
    type: block.type,
    method: block.method,
    recipients: block.recipients,
    timeSplits: (block.valueTimeSplits ?? []).map((s) =>
      s.type === 'remoteItem'
        ? {
            startTime: s.startTime,
            duration: s.duration,
            remotePercentage: s.remotePercentage,
            remoteFeedGuid: s.remoteItem.feedGuid,
            remoteItemGuid: s.remoteItem.itemGuid,
            recipients: song.recipients,
          }
        : { startTime: s.startTime, duration: s.duration, recipients: s.recipients },
    ),
  };
}

describe('value blocks by reference: the worker finds the block by feed URL or GUID (e2e)', () => {
  let stack: Stack;
  let feeds: FeedServer;
  let show: string;
  let music: string;
  const feedUrl = () => `${feeds.url}/show.xml`;
  const view = async (id: string) => (await stack.http.get(`/v1/events/${id}`)).body;
  const allocations = async (id: string) => {
    const event = await view(id);
    return Object.fromEntries(
      (event.allocations as { recipient: { address: string }; remoteItemGuid: string | null; amountMsat: string }[]).map((a) => [
        `${a.recipient.address}${a.remoteItemGuid ? `@${a.remoteItemGuid}` : ''}`,
        a.amountMsat,
      ]),
    );
  };
  const settled = (id: string, status: 'applied' | 'set_aside') =>
    eventually(
      () => view(id),
      (e) => (status === 'applied' ? e.appliedAt !== null : e.setAsideReason !== null),
      20_000,
    );

  beforeAll(async () => {
    feeds = await startFeedServer();
    show = feeds.serveFixture('/show.xml', 'show.xml', { CHANNEL_HOST_SPLIT: '90' });
    music = feeds.serveFixture('/music.xml', 'music.xml');
    feeds.serveFixture('/mix.xml', 'mix.xml');
    stack = await startStack({
      FEED_CACHE_SECONDS: '600',
      FEED_RETRY_BASE_SECONDS: '1',
      FEED_RETRY_MAX_SECONDS: '1',
      FEED_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      FEED_REMOTE_DEPTH: '2',
      PODCAST_INDEX_API_URL: feeds.indexUrl,
      PODCAST_INDEX_API_KEY: INDEX_KEY,
      PODCAST_INDEX_API_SECRET: INDEX_SECRET,
    });
  });
  afterAll(async () => {
    await stack?.close();
    await feeds?.close();
  });

  it('pays events by feed URL exactly as the same events with the inline blocks an app would read from the feed', async () => {
    const byUrl = { feedUrl: feedUrl() };
    const song = { position: 59.5, seconds: 61.25, satsPerMinute: 120 }; // over the song (60 s to 90.5 s)
    const guest = { position: 119, seconds: 20 }; // into the guest's segment (120 s to 135 s)
    const accepted = await stack.postEvents([
      listening('url-song', 'byref-ep-1', { ...song, ...byUrl }),
      listening('url-guest', 'byref-ep-1', { ...guest, ...byUrl }),
      listening('url-channel', 'byref-ep-2', byUrl),
      listening('inline-song', 'byref-ep-1', { ...song, value: inlineBlock(show, music, 'byref-ep-1') }),
      listening('inline-guest', 'byref-ep-1', { ...guest, value: inlineBlock(show, music, 'byref-ep-1') }),
      listening('inline-channel', 'byref-ep-2', { value: inlineBlock(show, music, 'byref-ep-2') }),
    ]);
    expect(accepted.accepted).toBe(6);
    await stack.accumulated();
    for (const [byRef, inline] of [
      ['url-song', 'inline-song'],
      ['url-guest', 'inline-guest'],
      ['url-channel', 'inline-channel'],
    ] as const) {
      expect(await allocations(byRef)).toEqual(await allocations(inline));
    }
    // The song's artist (a node) and band (a Lightning address) are paid for the song, with its GUIDs; the cohost
    // with split 0 gets nothing; the guest only in its segment.
    const paidForSong = await allocations('url-song');
    expect(Object.keys(paidForSong)).toEqual(expect.arrayContaining([`${ARTIST}@byref-song-1`, 'band@pods.test@byref-song-1', HOST, PRODUCER]));
    expect(Object.keys(paidForSong).filter((k) => k.startsWith('0383900f'))).toEqual([]);
    expect(await allocations('url-guest')).toHaveProperty([GUEST]);
    const songView = await view('url-song');
    expect(songView.valueBlock).toMatchObject({
      given: 'reference',
      feedUrl: feedUrl(),
      source: {
        via: 'feed',
        level: 'item',
        url: feedUrl(),
        itemGuid: 'byref-ep-1',
        hash: createHash('sha256').update(show).digest('hex'),
        remoteItems: [{ via: 'feed', level: 'item', url: `${feeds.url}/music.xml`, feedGuid: MUSIC, itemGuid: 'byref-song-1', depth: 1 }],
        skippedRemoteItems: [],
      },
    });
    expect((await view('url-channel')).valueBlock.source).toMatchObject({ level: 'channel', itemGuid: 'byref-ep-2' });
    expect((await view('inline-song')).valueBlock).toMatchObject({ given: 'inline', source: null });
    // The three events by URL read the show once (and the music feed once).
    expect(feeds.of('/show.xml').map((r) => r.status)).toEqual([200]);
    expect(feeds.of('/music.xml').map((r) => r.status)).toEqual([200]);
    expect((await stack.invariant()).ok).toBe(true);
  });

  it('pays events by GUID from the Podcast Index value API (signed calls): the item block, else the channel block', async () => {
    const episode = (item: string) => `/api/1.0/value/byepisodeguid?podcastguid=${SHOW}&episodeguid=${item}`;
    const itemDestinations = [
      { name: 'Host', type: 'node', address: HOST, split: 50 },
      { name: 'Guest', type: 'node', address: GUEST, split: 50 },
    ];
    const channelDestinations = [
      { name: 'Host', type: 'node', address: HOST, split: 90 },
      { name: 'Producer', type: 'node', address: PRODUCER, split: 10 },
    ];
    feeds.serve(episode('guid-ep-1'), indexAnswer({ podcastguid: SHOW, episodeguid: 'guid-ep-1' }, itemDestinations));
    feeds.serve(episode('guid-ep-2'), indexAnswer({ podcastguid: SHOW, episodeguid: 'guid-ep-2' }, null));
    feeds.serve(`/api/1.0/value/bypodcastguid?guid=${SHOW}`, indexAnswer({ guid: SHOW }, channelDestinations));
    const model = { type: 'lightning', method: 'keysend', suggested: '0.00000005000' };
    await stack.postEvents([
      listening('guid-item', 'guid-ep-1'),
      listening('guid-channel', 'guid-ep-2'),
      listening('guid-item-inline', 'guid-ep-1', { value: { model, destinations: itemDestinations } }),
      listening('guid-channel-inline', 'guid-ep-2', { value: { model, destinations: channelDestinations } }),
    ]);
    await stack.accumulated();
    expect(await allocations('guid-item')).toEqual(await allocations('guid-item-inline'));
    expect(await allocations('guid-channel')).toEqual(await allocations('guid-channel-inline'));
    expect(await allocations('guid-item')).toEqual({ [HOST]: '30000', [GUEST]: '30000' });
    expect((await view('guid-item')).valueBlock.source).toMatchObject({ via: 'podcastIndex', level: 'item', url: `${feeds.url}${episode('guid-ep-1')}` });
    expect((await view('guid-channel')).valueBlock.source).toMatchObject({ via: 'podcastIndex', level: 'channel' });
    const indexCalls = feeds.requests.filter((r) => r.path.startsWith('/api/1.0/'));
    expect(indexCalls.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('resolves remote items inside remote items up to FEED_REMOTE_DEPTH and leaves out a loop', async () => {
    const byUrl = { feedUrl: feedUrl() };
    await stack.postEvents([listening('mix', 'byref-ep-3', { ...byUrl, seconds: 120 }), listening('mix-of-mixes', 'byref-ep-5', byUrl)]);
    await stack.accumulated();
    // Episode 3 gives 50% to Mix One (DJ) from 0 s; inside it the song plays from 30 s to 90 s (depth 2) and pays
    // its artist and band instead of the DJ; Mix One's segment that plays episode 3 again (a loop) is left out.
    expect(await allocations('mix')).toEqual({
      [HOST]: '60000',
      [`${DJ}@byref-mix-1`]: '30000',
      [`${ARTIST}@byref-song-1`]: '24000',
      'band@pods.test@byref-song-1': '6000',
    });
    const mix = (await view('mix')).valueBlock.source;
    expect(mix.remoteItems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ feedGuid: MIXES, itemGuid: 'byref-mix-1', depth: 1 }),
        expect.objectContaining({ feedGuid: MUSIC, itemGuid: 'byref-song-1', depth: 2 }),
      ]),
    );
    expect(mix.skippedRemoteItems).toEqual([{ feedGuid: SHOW, itemGuid: 'byref-ep-3', reason: expect.stringMatching(/^loop/) }]);
    // Episode 5 plays Mix Two, which plays Mix One (depth 2): Mix One's own remote items would be depth 3.
    expect(await allocations('mix-of-mixes')).toEqual({ [`${DJ}@byref-mix-1`]: '60000' });
    const skipped = (await view('mix-of-mixes')).valueBlock.source.skippedRemoteItems;
    expect(skipped.map((s: { itemGuid: string; reason: string }) => [s.itemGuid, s.reason])).toEqual([
      ['byref-song-1', 'deeper than FEED_REMOTE_DEPTH (2)'],
      ['byref-ep-3', 'deeper than FEED_REMOTE_DEPTH (2)'],
    ]);
  });

  it('backs off a dead feed (or a dead remote feed), sets its events aside with the reason, and applies them on retry once fixed', async () => {
    const deadShow = `${feeds.url}/dead-show.xml`;
    feeds.serveFixture('/dead-show.xml', 'show.xml', { CHANNEL_HOST_SPLIT: '90' });
    feeds.takeDown('/dead-show.xml');
    feeds.takeDown('/gone-music.xml');
    await stack.postEvents([
      listening('dead-feed', 'byref-ep-2', { feedUrl: deadShow }),
      listening('dead-remote', 'byref-ep-4', { feedUrl: feedUrl() }),
      listening('alive', 'byref-ep-2', { feedUrl: feedUrl(), position: 300 }),
    ]);
    expect((await settled('alive', 'applied')).allocations.length).toBeGreaterThan(0);
    const dead = await settled('dead-feed', 'set_aside');
    expect(dead.setAsideReason).toContain(`${deadShow} answered HTTP 503`);
    expect(dead.setAsideReason).toContain(`${MAX_ATTEMPTS} failures in a row`);
    expect(dead.valueBlock).toMatchObject({ given: 'reference', source: null, lastError: expect.stringContaining('HTTP 503') });
    const deadRemote = await settled('dead-remote', 'set_aside');
    expect(deadRemote.setAsideReason).toContain(`${feeds.url}/gone-music.xml answered HTTP 503`);
    expect(feeds.of('/dead-show.xml').map((r) => r.status)).toEqual(Array(MAX_ATTEMPTS).fill(503));
    expect(feeds.of('/gone-music.xml').map((r) => r.status)).toEqual(Array(MAX_ATTEMPTS).fill(503));
    const listed = await stack.http.get(`/v1/events?status=set_aside&feedGuid=${SHOW}`);
    expect(listed.body.events.map((e: { id: string }) => e.id).sort()).toEqual(['dead-feed', 'dead-remote']);

    // The feeds are fixed; an operator retries the show's set-aside events.
    feeds.bringBack('/dead-show.xml');
    feeds.bringBack('/gone-music.xml');
    feeds.serve('/gone-music.xml', music.replace(MUSIC, 'd3e4f5a6-b7c8-5d9e-8f1a-2b3c4d5e6f70').replace('byref-song-1', 'gone-1'));
    // Another app's key retries only its own app's events (none set aside here), and may not name this app.
    const other = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('other-app', [Scope.EventsWrite, Scope.PayoutsRead])).key);
    expect(await other.post('/v1/events/retry', { feedGuid: SHOW, app: 'test-app' })).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect(await other.post('/v1/events/retry', { feedGuid: SHOW })).toMatchObject({ status: 202, body: { retried: 0 } });
    expect((await view('dead-feed')).setAsideReason).not.toBeNull();
    const retried = await stack.http.post('/v1/events/retry', { feedGuid: SHOW });
    expect(retried).toMatchObject({ status: 202, body: { retried: 2 } });
    await settled('dead-feed', 'applied');
    await settled('dead-remote', 'applied');
    expect(await allocations('dead-feed')).toEqual(await allocations('inline-channel'));
    expect(await allocations('dead-remote')).toEqual({ [`${ARTIST}@gone-1`]: '48000', 'band@pods.test@gone-1': '12000' });
    expect((await stack.invariant()).ok).toBe(true);
  });

  it('pays boosts by feed URL and by GUID exactly as the same boosts inline, remote items with their GUIDs; a dead feed sets a boost aside until retried', async () => {
    const boostOf = (id: string, itemGuid: string, extra: object = {}) => ({
      id,
      feedGuid: SHOW,
      itemGuid,
      position: 70, // inside the song (60 s to 90.5 s)
      amountSats: 1000,
      message: `boost ${id}`,
      senderName: 'listener',
      ...extra,
    });
    const boostView = async (id: string) => (await stack.http.get(`/v1/boosts/${id}`)).body;
    const until = (id: string, done: (b: { status: string; appliedAt: string | null }) => boolean) => eventually(() => boostView(id), done, 20_000);
    const sharesOf = async (id: string) =>
      Object.fromEntries(
        ((await boostView(id)).shares as { recipient: { address: string }; remoteItemGuid: string | null; amountMsat: string }[]).map((s) => [
          `${s.recipient.address}${s.remoteItemGuid ? `@${s.remoteItemGuid}` : ''}`,
          s.amountMsat,
        ]),
      );
    const itemDestinations = [
      { name: 'Host', type: 'node', address: HOST, split: 50 },
      { name: 'Guest', type: 'node', address: GUEST, split: 50 },
    ];
    feeds.serve(
      `/api/1.0/value/byepisodeguid?podcastguid=${SHOW}&episodeguid=guid-ep-9`,
      indexAnswer({ podcastguid: SHOW, episodeguid: 'guid-ep-9' }, itemDestinations),
    );
    const model = { type: 'lightning', method: 'keysend', suggested: '0.00000005000' };
    for (const body of [
      boostOf('boost-url', 'byref-ep-1', { feedUrl: feedUrl() }),
      boostOf('boost-inline', 'byref-ep-1', { value: inlineBlock(show, music, 'byref-ep-1') }),
      boostOf('boost-guid', 'guid-ep-9'),
      boostOf('boost-guid-inline', 'guid-ep-9', { value: { model, destinations: itemDestinations } }),
    ])
      expect((await stack.http.post('/v1/boosts', body)).status).toBe(202);
    for (const id of ['boost-url', 'boost-inline', 'boost-guid', 'boost-guid-inline']) await until(id, (b) => b.appliedAt !== null);
    expect(await sharesOf('boost-url')).toEqual(await sharesOf('boost-inline'));
    expect(await sharesOf('boost-guid')).toEqual(await sharesOf('boost-guid-inline'));
    expect(await sharesOf('boost-guid')).toEqual({ [HOST]: '500000', [GUEST]: '500000' });
    expect((await boostView('boost-url')).valueBlock).toMatchObject({ given: 'reference', source: { via: 'feed', level: 'item', itemGuid: 'byref-ep-1' } });
    expect((await boostView('boost-guid')).valueBlock.source).toMatchObject({ via: 'podcastIndex', level: 'item' });
    await until('boost-guid', (b) => b.status === 'paid');
    // The song's artist is paid for the song: its payment says boost, with the remote item's GUIDs.
    const toArtist = await eventually(
      async () => (await stack.sim.payments()).filter((p) => p.destination === ARTIST && p.blip10?.message === 'boost boost-url'),
      (found) => found.length === 1,
      20_000,
    );
    expect(toArtist[0]!.blip10).toMatchObject({ action: 'boost', remote_feed_guid: MUSIC, remote_item_guid: 'byref-song-1', value_msat_total: 1_000_000 });

    // A dead feed: the boost backs off, is set aside with the reason, and is paid once an operator retries it.
    feeds.serveFixture('/boost-dead.xml', 'show.xml', { CHANNEL_HOST_SPLIT: '90' });
    feeds.takeDown('/boost-dead.xml');
    expect((await stack.http.post('/v1/boosts', boostOf('boost-dead', 'byref-ep-2', { feedUrl: `${feeds.url}/boost-dead.xml` }))).status).toBe(202);
    const dead = await until('boost-dead', (b) => b.status === 'set_aside');
    expect(dead).toMatchObject({
      setAsideReason: expect.stringContaining('answered HTTP 503'),
      valueBlock: { lastError: expect.stringContaining('HTTP 503') },
    });
    feeds.bringBack('/boost-dead.xml');
    expect(await stack.http.post('/v1/events/retry', { feedGuid: SHOW })).toMatchObject({ status: 202, body: { boostsRetried: 1 } });
    await until('boost-dead', (b) => b.status === 'paid');
    expect((await stack.http.post('/v1/boosts', boostOf('boost-dead-inline', 'byref-ep-2', { value: inlineBlock(show, music, 'byref-ep-2') }))).status).toBe(
      202,
    );
    await until('boost-dead-inline', (b) => b.appliedAt !== null);
    expect(await sharesOf('boost-dead')).toEqual(await sharesOf('boost-dead-inline'));
    expect(Object.keys(await sharesOf('boost-dead'))).toEqual(expect.arrayContaining([HOST, PRODUCER]));
    expect((await stack.invariant()).ok).toBe(true);
  });

  it('picks up a changed feed after its TTL, asking with its ETag (304 while it is unchanged)', async () => {
    const age = () => query(stack.config.DATABASE_URL, `UPDATE feed_source SET checked_at = checked_at - interval '1 hour' WHERE url = $1`, [feedUrl()]);
    const requestsBefore = feeds.of('/show.xml').length;
    await stack.postEvents([listening('ttl-cached', 'byref-ep-2', { feedUrl: feedUrl(), position: 600 })]);
    await settled('ttl-cached', 'applied');
    expect(feeds.of('/show.xml')).toHaveLength(requestsBefore); // within FEED_CACHE_SECONDS: not asked
    const before = await allocations('ttl-cached');

    await age();
    await stack.postEvents([listening('ttl-unchanged', 'byref-ep-2', { feedUrl: feedUrl(), position: 660 })]);
    await settled('ttl-unchanged', 'applied');
    const asked = feeds.of('/show.xml').at(-1)!;
    expect(asked).toMatchObject({ status: 304, ifNoneMatch: expect.stringMatching(/^".+"$/) });
    expect(await allocations('ttl-unchanged')).toEqual(before);

    const changed = feeds.serveFixture('/show.xml', 'show.xml', { CHANNEL_HOST_SPLIT: '40' });
    await age();
    await stack.postEvents([listening('ttl-changed', 'byref-ep-2', { feedUrl: feedUrl(), position: 720 })]);
    await settled('ttl-changed', 'applied');
    expect(feeds.of('/show.xml').at(-1)!.status).toBe(200);
    expect((await view('ttl-changed')).valueBlock.source.hash).toBe(createHash('sha256').update(changed).digest('hex'));
    // 60000 msat: the app's 5% fee first, then 40:10 of the rest.
    expect(await allocations('ttl-changed')).toMatchObject({ [HOST]: '45600', [PRODUCER]: '11400' });
    expect(before).toMatchObject({ [HOST]: '51300', [PRODUCER]: '5700' });
  });

  it('backs off a feed that has no block for the item nor its channel, then sets its events aside saying so', async () => {
    const bare = music.replace(/<podcast:value[\s\S]*?<\/podcast:value>/g, '');
    feeds.serve('/bare.xml', bare);
    await stack.postEvents([{ ...listening('no-block', 'byref-song-1', { feedUrl: `${feeds.url}/bare.xml` }), feedGuid: MUSIC }]);
    const aside = await settled('no-block', 'set_aside');
    expect(aside.setAsideReason).toContain(`feed ${feeds.url}/bare.xml has no <podcast:value> for item "byref-song-1" nor for its channel`);
    // The feed was read once and asked again (conditionally: unchanged, 304) on the retry after the backoff.
    expect(feeds.of('/bare.xml').map((r) => r.status)).toEqual([200, 304]);
  });

  it('refuses an event without a block whose feedUrl is not an http(s) URL', async () => {
    const res = await stack.http.post('/v1/events', { events: [listening('bad-url', 'byref-ep-2', { feedUrl: 'ftp://example.com/feed.xml' })] });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: 'events[0].feedUrl', code: 'invalid_request' })]);
  });
});
