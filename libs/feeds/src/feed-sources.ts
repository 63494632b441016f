import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { GuardedHttp, OutboundError } from '@splitstream/outbound';
import { Prisma, PrismaService } from '@splitstream/persistence';
import type { FeedDocument } from './feed-document.js';

// One source as read (now, or within FEED_CACHE_SECONDS, or confirmed unchanged by a 304).
export interface ReadSource {
  url: string;
  document: FeedDocument;
  fetchedAt: Date; // when its content was last downloaded (a 304 keeps it)
  hash: string; // sha256 of that content
}

// A source that could not be read or gave no block: `failures` in a row so far, tried again from `retryAt`.
export class SourceFailure extends Error {
  override name = 'SourceFailure';
  constructor(
    readonly url: string,
    message: string,
    readonly failures: number,
    readonly retryAt: Date,
  ) {
    super(message);
  }
}

export interface SourceRequest {
  url: string;
  parse: (body: string) => FeedDocument | undefined;
  what: string; // "feed", "Podcast Index answer": for the failure's message
  headers?: () => Record<string, string>; // per call (the Podcast Index signs each with its time)
}

const USER_AGENT = 'splitstream (value blocks; +https://github.com/splitstream)';

// The feeds (and Podcast Index answers) the worker reads, cached in feed_source: within FEED_CACHE_SECONDS a source
// is not asked again; after, it is asked with its ETag / Last-Modified, and a 304 keeps what was read. A failing
// source backs off (FEED_RETRY_BASE_SECONDS doubling to FEED_RETRY_MAX_SECONDS) and is not called before its
// retryAt. Calls go through the guarded outbound client (SSRF guard, FEED_TIMEOUT_MS, FEED_MAX_BODY_BYTES), one per
// source at a time in this process (concurrent readers share it).
@Injectable()
export class FeedSources {
  private readonly http: GuardedHttp;
  private readonly inFlight = new Map<string, Promise<ReadSource>>();

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.http = new GuardedHttp({
      timeoutMs: config.FEED_TIMEOUT_MS,
      maxBodyBytes: config.FEED_MAX_BODY_BYTES,
      allowPrivate: config.OUTBOUND_ALLOW_PRIVATE,
      headers: { 'user-agent': USER_AGENT },
    });
  }

  // `revalidate`: ask the source (conditionally) even within FEED_CACHE_SECONDS, as when retrying an item it had
  // no block for.
  async read(request: SourceRequest, { revalidate = false } = {}): Promise<ReadSource> {
    const now = new Date();
    const row = await this.prisma.feedSource.findUnique({ where: { key: request.url } });
    const fresh = row?.checkedAt && now.getTime() - row.checkedAt.getTime() < this.config.FEED_CACHE_SECONDS * 1000;
    if (row?.document && row.failures === 0 && fresh && !revalidate) return readOf(row);
    throwIfBackingOff(row, now);
    let pending = this.inFlight.get(request.url);
    if (!pending) {
      pending = this.fetch(request, row).finally(() => this.inFlight.delete(request.url));
      this.inFlight.set(request.url, pending);
    }
    return pending;
  }

  // How many times in a row `key` (a source, or a source's item: `<url>#<item guid>`) failed; throws while it backs off.
  async failuresOf(key: string): Promise<number> {
    const row = await this.prisma.feedSource.findUnique({ where: { key } });
    throwIfBackingOff(row, new Date());
    return row?.failures ?? 0;
  }

  // Records one more failure of `url` (a source that could not be read, or `<url>#<item guid>`: read, but with no
  // usable block for that item) and returns it to throw.
  async fail(url: string, message: string): Promise<SourceFailure> {
    const [row] = await this.prisma.$queryRaw<{ failures: number }[]>`
      INSERT INTO feed_source (key, url, failures, last_error) VALUES (${url}, ${url}, 1, ${message})
      ON CONFLICT (key) DO UPDATE SET failures = feed_source.failures + 1, last_error = EXCLUDED.last_error
      RETURNING failures`;
    const failures = row!.failures;
    const delaySeconds = Math.min(this.config.FEED_RETRY_MAX_SECONDS, this.config.FEED_RETRY_BASE_SECONDS * 2 ** Math.min(failures - 1, 30));
    const retryAt = new Date(Date.now() + delaySeconds * 1000);
    await this.prisma.feedSource.update({ where: { key: url }, data: { retryAt } });
    return new SourceFailure(url, message, failures, retryAt);
  }

  // Sources (and items) that gave a usable block: their failures are over.
  async succeeded(keys: string[]): Promise<void> {
    await this.prisma.feedSource.updateMany({ where: { key: { in: keys }, failures: { gt: 0 } }, data: { failures: 0, retryAt: null, lastError: null } });
  }

  // An operator's retry (the feeds were fixed): these sources (and items) may be called again now, and the sources
  // are asked again (conditionally) before their cached content is used.
  async retry(keys: string[]): Promise<void> {
    const sources = [...new Set(keys.map((key) => key.replace(/#.*$/s, '')))];
    await this.prisma.feedSource.updateMany({ where: { key: { in: [...keys, ...sources] } }, data: { failures: 0, retryAt: null, checkedAt: null } });
  }

  private async fetch(request: SourceRequest, row: CachedRow | null): Promise<ReadSource> {
    const conditional: Record<string, string> = {};
    if (row?.document && row.etag) conditional['if-none-match'] = row.etag;
    if (row?.document && row.lastModified) conditional['if-modified-since'] = row.lastModified;
    let response;
    try {
      response = await this.http.get(request.url, { headers: { ...request.headers?.(), ...conditional } });
    } catch (error) {
      if (!(error instanceof OutboundError)) throw error;
      throw await this.fail(request.url, `${request.what} ${request.url}: ${error.failure}: ${error.message}`);
    }
    const now = new Date();
    if (response.status === 304 && row?.document) {
      const kept = await this.prisma.feedSource.update({ where: { key: request.url }, data: { checkedAt: now } });
      return readOf(kept);
    }
    if (response.status !== 200) throw await this.fail(request.url, `${request.what} ${request.url} answered HTTP ${response.status}`);
    const document = request.parse(response.body);
    if (!document) throw await this.fail(request.url, `${request.what} ${request.url} could not be read (podcast-partytime found no feed in it)`);
    const fields = {
      etag: response.headers['etag'] ?? null,
      lastModified: response.headers['last-modified'] ?? null,
      contentHash: createHash('sha256').update(response.body).digest('hex'),
      document: document as unknown as Prisma.InputJsonValue,
      fetchedAt: now,
      checkedAt: now,
    };
    const stored = await this.prisma.feedSource.upsert({
      where: { key: request.url },
      create: { key: request.url, url: request.url, ...fields },
      update: fields,
    });
    return readOf(stored);
  }
}

type CachedRow = NonNullable<Awaited<ReturnType<PrismaService['feedSource']['findUnique']>>>;

function throwIfBackingOff(row: CachedRow | null, now: Date): void {
  if (row && row.failures > 0 && row.retryAt && row.retryAt > now) throw new SourceFailure(row.url, row.lastError ?? 'failed', row.failures, row.retryAt);
}

const readOf = (row: CachedRow): ReadSource => ({
  url: row.url,
  document: row.document as unknown as FeedDocument,
  fetchedAt: row.fetchedAt!,
  hash: row.contentHash!,
});
