import { Logger } from '@nestjs/common';
import { PrismaService } from '@splitstream/persistence';
import { type FeedServer, indexAnswer, startFeedServer } from '../../../test/support/feed-server.js';
import { testConfig } from '../../../test/support/test-config.js';
import { feedDocumentOf, podcastIndexDocumentOf } from './feed-document.js';
import { FeedSources, itemKeyOf, SourceFailure, sourceKeyOf } from './feed-sources.js';

// FeedSources against the real database and a real HTTP server (feeds and a Podcast Index stand-in).
describe('FeedSources (integration)', () => {
  const config = testConfig({ OUTBOUND_ALLOW_PRIVATE: 'true', FEED_RETRY_BASE_SECONDS: '30', FEED_RETRY_MAX_SECONDS: '30' });
  const prisma = new PrismaService(config);
  const sources = new FeedSources(prisma, config);
  let feeds: FeedServer;

  beforeAll(async () => {
    Logger.overrideLogger(false); // the failures below are expected: their warnings are not the test's output
    feeds = await startFeedServer();
  });
  afterAll(() => Promise.all([prisma.$disconnect(), feeds?.close()]));

  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  it('keeps a URL read as a feed apart from the same URL read as a Podcast Index answer: one failing never backs off the other', async () => {
    feeds.serve('/answers/kind-test.json', indexAnswer({ guid: 'kind-test' }, [{ name: 'Host', type: 'node', address: 'x', split: 1 }]));
    const url = `${feeds.url}/answers/kind-test.json`;

    expect(await failureOf(sources.read({ kind: 'feed', url, parse: feedDocumentOf }))).toBeInstanceOf(SourceFailure);
    expect(await failureOf(sources.failuresOf(sourceKeyOf('feed', url)))).toBeInstanceOf(SourceFailure); // backing off

    const answer = await sources.read({ kind: 'podcastIndex', url, parse: (body) => podcastIndexDocumentOf(body, 'kind-test') });
    expect(answer.document.channel).toMatchObject({ destinations: [{ name: 'Host' }] });
    expect(await sources.failuresOf(sourceKeyOf('podcastIndex', url))).toBe(0);
  });

  it('records a source whose document the database refuses as a failure of that source, with the reason, not an error of the caller', async () => {
    feeds.serve('/refused.xml', 'anything');
    const url = `${feeds.url}/refused.xml`;
    const failure = await failureOf(sources.read({ kind: 'feed', url, parse: () => ({ feedGuid: 'nul\u0000', channel: null, items: {} }) }));
    expect(failure).toBeInstanceOf(SourceFailure);
    expect((failure as SourceFailure).message).toBe(`feed ${url} could not be read or stored (stored_document)`);
    const [row] = await prisma.feedSource.findMany({ where: { key: sourceKeyOf('feed', url) } });
    expect(row).toMatchObject({ failures: 1, url, lastErrorDetail: expect.stringContaining(`feed ${url}: `) });
  });

  it('tells apps why a call gave no answer by its code, keeping the transport detail for admins', async () => {
    const url = `http://127.0.0.1:9/unreachable-${Date.now()}.xml`; // the discard port: nothing listens
    const failure = await failureOf(sources.read({ kind: 'feed', url, parse: feedDocumentOf }));
    expect((failure as SourceFailure).message).toBe(`feed ${url} could not be reached (unreachable)`);
    const [row] = await prisma.feedSource.findMany({ where: { key: sourceKeyOf('feed', url) } });
    expect(row!.lastError).toBe((failure as SourceFailure).message);
    expect(row!.lastErrorDetail).toMatch(/^feed http:\/\/127\.0\.0\.1:9\/unreachable-\d+\.xml: unreachable: .+/);
  });

  it("an admin's retry() of an item's key resets the item and its source (and only that kind of it); an app's only the item", async () => {
    const url = `${feeds.url}/retry-me.xml`;
    await sources.fail(sourceKeyOf('feed', url), url, 'down');
    await sources.fail(sourceKeyOf('podcastIndex', url), url, 'down');
    await sources.fail(itemKeyOf('feed', url, 'ep#1'), url, 'no block');
    await sources.retry([itemKeyOf('feed', url, 'ep#1')], { sources: false });
    expect(await sources.failuresOf(itemKeyOf('feed', url, 'ep#1'))).toBe(0);
    expect(await failureOf(sources.failuresOf(sourceKeyOf('feed', url)))).toBeInstanceOf(SourceFailure);
    await sources.fail(itemKeyOf('feed', url, 'ep#1'), url, 'no block');
    await sources.retry([itemKeyOf('feed', url, 'ep#1')], { sources: true });
    expect(await sources.failuresOf(sourceKeyOf('feed', url))).toBe(0);
    expect(await sources.failuresOf(itemKeyOf('feed', url, 'ep#1'))).toBe(0);
    expect(await failureOf(sources.failuresOf(sourceKeyOf('podcastIndex', url)))).toBeInstanceOf(SourceFailure);
  });
});
