import { ApiKeysService, Scope } from '@splitstream/auth';
import { query } from '../support/database.js';
import { type FeedServer, INDEX_KEY, INDEX_SECRET, indexAnswer, startFeedServer } from '../support/feed-server.js';
import { apiClient, eventually } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

// Review of "value blocks by reference" (branch review-byref): each test states what the service should do and
// fails on the merged code (see the review report for the fix suggested).
const SHOW = '7d1e2f3a-4b5c-5d6e-8f90-a1b2c3d4e5f6';
const HOST = '025601570cb47f238d2b0286db4a990fa0f3ba28d1a319f5e7cf55c2a2444da7cc';

// One listener's minute of SHOW (the id, item and reference added per test).
const minute = { feedGuid: SHOW, position: 0, seconds: 60, satsPerMinute: 60 };

const feedWithRecipientName = (name: string) => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <channel>
    <title>Hostile</title>
    <podcast:guid>${SHOW}</podcast:guid>
    <podcast:value type="lightning" method="keysend">
      <podcast:valueRecipient name="${name}" type="node" address="${HOST}" split="100"/>
    </podcast:value>
    <item><title>One</title><guid>nul-ep</guid><enclosure url="https://example.com/1.mp3" length="1" type="audio/mpeg"/></item>
  </channel>
</rss>`;

describe('value blocks by reference: review findings (e2e)', () => {
  let stack: Stack;
  let feeds: FeedServer;
  const viewOf = (client: Stack['http'], id: string) => client.get(`/v1/events/${id}`).then((r) => r.body);

  beforeAll(async () => {
    feeds = await startFeedServer();
    const index = { PODCAST_INDEX_API_URL: feeds.indexUrl, PODCAST_INDEX_API_KEY: INDEX_KEY, PODCAST_INDEX_API_SECRET: INDEX_SECRET };
    // A cache of 1 s (every read goes to the source) and a backoff of 30 s (longer than any wait below).
    stack = await startStack({
      ...index,
      FEED_CACHE_SECONDS: '1',
      FEED_RETRY_BASE_SECONDS: '30',
      FEED_RETRY_MAX_SECONDS: '30',
      FEED_MAX_ATTEMPTS: '2',
      EVENT_RETRY_RATE_LIMIT_PER_MINUTE: '2',
    });
  });
  afterAll(() => Promise.all([stack?.close(), feeds?.close()]));

  // A NUL character in a feed reached the feed_source jsonb write, which PostgreSQL refuses: the error was not a
  // SourceFailure, so the job failed (and was retried, and swept) forever. Control characters are now taken out of
  // what is stored (a store error would be a failure of that feed: libs/feeds feed-sources.int-spec), so the event is
  // applied; an inline event in the same request is applied too.
  it('applies an event whose feed holds a NUL character (and the inline event beside it), instead of failing its job forever', async () => {
    feeds.serve('/nul.xml', feedWithRecipientName('Host\u0000'));
    const inline = { type: 'lightning', method: 'keysend', recipients: [{ name: 'Host', type: 'node', address: HOST, split: 1 }] };
    await stack.postEvents([
      { ...minute, id: 'nul-feed', itemGuid: 'nul-ep', feedUrl: `${feeds.url}/nul.xml` },
      { ...minute, id: 'nul-inline', itemGuid: 'inline-ep', value: inline },
    ]);
    for (const id of ['nul-feed', 'nul-inline']) {
      const event = await eventually(
        () => viewOf(stack.http, id),
        (e) => e.appliedAt !== null || e.setAsideReason !== null,
        15_000,
      );
      expect({ id, setAsideReason: event.setAsideReason, applied: event.appliedAt !== null }).toEqual({ id, setAsideReason: null, applied: true });
    }
  });

  // Sources were cached and backed off by URL alone, whoever asked and with whichever parser: app B gave the Podcast
  // Index URL app A's GUID events use as its own feedUrl; read as a feed (unsigned, not XML) it failed, and that
  // failure backed off the Podcast Index answer A's events need. Such a feedUrl is now refused (400); sources are
  // keyed by kind and URL besides (libs/feeds feed-sources.int-spec).
  it("does not let another app's feedUrl back off the Podcast Index answer this app's GUID events use", async () => {
    const episode = `/api/1.0/value/byepisodeguid?podcastguid=${SHOW}&episodeguid=pi-ep`;
    feeds.serve(episode, indexAnswer({ podcastguid: SHOW, episodeguid: 'pi-ep' }, [{ name: 'Host', type: 'node', address: HOST, split: 100 }]));
    await stack.postEvents([{ ...minute, id: 'a-before', itemGuid: 'pi-ep' }]);
    await eventually(
      () => viewOf(stack.http, 'a-before'),
      (e) => e.appliedAt !== null,
      15_000,
    );

    // The cached answer is older than FEED_CACHE_SECONDS (as any is, a while after it was read).
    await query(stack.config.DATABASE_URL, `UPDATE feed_source SET checked_at = checked_at - interval '1 hour' WHERE url = $1`, [`${feeds.url}${episode}`]);
    const attacker = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('attacker-app', [Scope.EventsWrite, Scope.PayoutsRead])).key);
    const posted = await attacker.post('/v1/events', { events: [{ ...minute, id: 'b-poison', itemGuid: 'not-there', feedUrl: `${feeds.url}${episode}` }] });
    expect(posted.status).toBe(400);
    expect(JSON.stringify(posted.body)).toContain('is on the Podcast Index API');

    await stack.postEvents([{ ...minute, id: 'a-after', itemGuid: 'pi-ep' }]);
    const after = await eventually(
      () => viewOf(stack.http, 'a-after'),
      (e) => e.appliedAt !== null || e.valueBlock?.lastError !== null,
      15_000,
    );
    expect(after.valueBlock.lastError).toBeNull();
    expect(after.appliedAt).not.toBeNull();
  });

  // feedUrl is checked with a regular expression only: a text that is no URL, or a URL with credentials (which the
  // guarded client never follows), is accepted (202) and only set aside minutes later.
  it('refuses at the request a feedUrl that is not a URL the worker would follow', async () => {
    for (const feedUrl of ['http://exa mple.com/feed.xml', 'http://user:secret@feeds.example.com/feed.xml']) {
      const res = await stack.http.post('/v1/events', { events: [{ ...minute, id: `bad-${feedUrl.length}`, itemGuid: 'ep', feedUrl }] });
      expect({ feedUrl, status: res.status }).toEqual({ feedUrl, status: 400 });
    }
  });

  // Each retry re-queues set-aside events and resets feed failures: an app asks at most
  // EVENT_RETRY_RATE_LIMIT_PER_MINUTE times a minute (429 beyond), like POST /v1/payouts/run.
  it("applies another app's inline event at once while one app's events wait on a hundred feeds that never answer", async () => {
    const stalling = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('stall-app', [Scope.EventsWrite, Scope.PayoutsRead])).key);
    // One request each, so each is its own apply job: before, every job waited on its feed (FEED_TIMEOUT_MS, 10 s)
    // in one of the apply queue's 100 slots, and an inline event of another app waited behind them.
    for (let i = 0; i < 110; i++) {
      feeds.stall(`/stall-${i}.xml`);
      const posted = await stalling.post('/v1/events', {
        events: [{ ...minute, id: `stall-${i}`, itemGuid: 'stall-ep', feedUrl: `${feeds.url}/stall-${i}.xml` }],
      });
      expect(posted.status).toBe(202);
    }
    await eventually(
      async () => feeds.requests.filter((r) => r.path.startsWith('/stall-')).length,
      (asked) => asked >= 4,
      10_000,
    );
    const started = Date.now();
    const value = { type: 'lightning', method: 'keysend', recipients: [{ name: 'Host', type: 'node', address: HOST, split: 100 }] };
    await stack.postEvents([{ ...minute, id: 'inline-beside-stalls', itemGuid: 'inline-ep', value }]);
    await eventually(
      () => viewOf(stack.http, 'inline-beside-stalls'),
      (event) => event.appliedAt !== null,
      8_000,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('limits POST /v1/events/retry per app and minute', async () => {
    const app = apiClient(stack.baseUrl, (await stack.api.get(ApiKeysService).create('retrying-app', [Scope.EventsWrite])).key);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await app.post('/v1/events/retry', {})).status);
    expect(statuses).toEqual([202, 202, 429]);
  });
});
