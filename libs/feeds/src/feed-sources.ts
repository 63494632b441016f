import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { GuardedHttp, OutboundError, type OutboundFailure } from '@splitstream/outbound';
import { Prisma, PrismaService } from '@splitstream/persistence';
import type { FeedDocument } from './feed-document.js';

// One source as read (now, or within FEED_CACHE_SECONDS, or confirmed unchanged by a 304).
export interface ReadSource {
  url: string;
  document: FeedDocument;
  fetchedAt: Date; // when its content was last downloaded (a 304 keeps it)
  hash: string; // sha256 of that content
}

// What a source is read as: the same URL read as a feed and as a Podcast Index answer are two sources (one app's
// feedUrl must never back off or replace what another app's GUID events read from the index).
export type SourceKind = 'feed' | 'podcastIndex';

const WHAT: Record<SourceKind, string> = { feed: 'feed', podcastIndex: 'Podcast Index answer' };

// What apps read of a call that gave no answer (the event's reason): the code and this. OutboundError's own message
// (addresses the host resolved to, transport errors) stays in feed_source.last_error_detail and the worker's log.
const OUTBOUND_REASON: Record<OutboundFailure, string> = {
  destination: 'its host is not a public address',
  unreachable: 'could not be reached',
  timeout: 'gave no whole answer in time',
  too_large: 'is too large',
  redirect: 'redirects away from its origin, or too often',
  scheme: 'is not http(s)',
};

// feed_source keys: a source's is [kind, url], an item's of it [kind, url, item guid] (JSON, so no URL or guid can
// make one key look like another).
export const sourceKeyOf = (kind: SourceKind, url: string): string => JSON.stringify([kind, url]);
export const itemKeyOf = (kind: SourceKind, url: string, itemGuid: string): string => JSON.stringify([kind, url, itemGuid]);

// The source key an item key belongs to (a source key is its own); undefined for what is no such key.
function sourceOfKey(key: string): string | undefined {
  try {
    const parts: unknown = JSON.parse(key);
    return Array.isArray(parts) && parts.length >= 2 ? JSON.stringify(parts.slice(0, 2)) : undefined;
  } catch {
    return undefined;
  }
}

// A source that could not be read or gave no block: `failures` in a row so far, tried again from `retryAt`.
export class SourceFailure extends Error {
  override name = 'SourceFailure';
  constructor(
    readonly key: string,
    readonly url: string,
    message: string,
    readonly failures: number,
    readonly retryAt: Date,
  ) {
    super(message);
  }

  // Why what waits on this source (events, boosts) is set aside, once it failed `maxAttempts` times in a row;
  // undefined before (it is tried again from retryAt).
  setAsideReason(maxAttempts: number): string | undefined {
    if (this.failures < maxAttempts) return undefined;
    return `no value block: ${this.message} (${this.failures} failures in a row; POST /v1/events/retry once it is fixed)`;
  }

  // What a waiting row keeps of it (value_source): the source a retry reads again.
  get failedSource(): string {
    return JSON.stringify({ failedSource: this.key });
  }
}

export interface SourceRequest {
  kind: SourceKind;
  url: string;
  parse: (body: string) => FeedDocument | undefined;
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
  private readonly logger = new Logger(FeedSources.name);
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
    const key = sourceKeyOf(request.kind, request.url);
    const row = await this.prisma.feedSource.findUnique({ where: { key } });
    const fresh = row?.checkedAt && now.getTime() - row.checkedAt.getTime() < this.config.FEED_CACHE_SECONDS * 1000;
    if (row?.document && row.failures === 0 && fresh && !revalidate) return readOf(row);
    throwIfBackingOff(row, now);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetch(key, request, row).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  // How many times in a row `key` (a source's, or an item's: itemKeyOf) failed; throws while it backs off.
  async failuresOf(key: string): Promise<number> {
    const row = await this.prisma.feedSource.findUnique({ where: { key } });
    throwIfBackingOff(row, new Date());
    return row?.failures ?? 0;
  }

  // Records one more failure of `key` (a source at `url` that could not be read, or an item's: read, but with no
  // usable block for that item) and returns it to throw. `message` is what apps read; `detail`, for admins, is
  // kept beside it (feed_source.last_error_detail).
  async fail(key: string, url: string, message: string, detail = message): Promise<SourceFailure> {
    const [row] = await this.prisma.$queryRaw<{ failures: number }[]>`
      INSERT INTO feed_source (key, url, failures, last_error, last_error_detail) VALUES (${key}, ${url}, 1, ${message}, ${detail})
      ON CONFLICT (key) DO UPDATE SET failures = feed_source.failures + 1, last_error = EXCLUDED.last_error, last_error_detail = EXCLUDED.last_error_detail
      RETURNING failures`;
    const failures = row!.failures;
    const delaySeconds = Math.min(this.config.FEED_RETRY_MAX_SECONDS, this.config.FEED_RETRY_BASE_SECONDS * 2 ** Math.min(failures - 1, 30));
    const retryAt = new Date(Date.now() + delaySeconds * 1000);
    await this.prisma.feedSource.update({ where: { key }, data: { retryAt } });
    return new SourceFailure(key, url, message, failures, retryAt);
  }

  // Sources (and items) that gave a usable block: their failures are over.
  async succeeded(keys: string[]): Promise<void> {
    await this.prisma.feedSource.updateMany({
      where: { key: { in: keys }, failures: { gt: 0 } },
      data: { failures: 0, retryAt: null, lastError: null, lastErrorDetail: null },
    });
  }

  // A retry (the feeds were fixed): these items may be called again now; with `sources` (an operator's) so may the
  // sources, asked again (conditionally) before their cached content is used.
  async retry(keys: string[], { sources }: { sources: boolean }): Promise<void> {
    const sourceKeys = new Set(keys.flatMap((key) => sourceOfKey(key) ?? []));
    const items = keys.filter((key) => !sourceKeys.has(key));
    await this.prisma.feedSource.updateMany({ where: { key: { in: items } }, data: { failures: 0, retryAt: null } });
    if (sources) await this.prisma.feedSource.updateMany({ where: { key: { in: [...sourceKeys] } }, data: { failures: 0, retryAt: null, checkedAt: null } });
  }

  // Any failure to read, parse or store the source is a failure of that source (with its reason), never of the job.
  private async fetch(key: string, request: SourceRequest, row: CachedRow | null): Promise<ReadSource> {
    const what = `${WHAT[request.kind]} ${request.url}`;
    try {
      return await this.download(key, request, row, what);
    } catch (error) {
      if (error instanceof SourceFailure) throw error;
      if (error instanceof OutboundError) {
        this.logger.warn(`${what}: ${error.failure}: ${error.message}`);
        throw await this.fail(key, request.url, `${what} ${OUTBOUND_REASON[error.failure]} (${error.failure})`, `${what}: ${error.failure}: ${error.message}`);
      }
      this.logger.warn(`${what} could not be read or stored: ${(error as Error).message}`);
      throw await this.fail(key, request.url, `${what} could not be read or stored (stored_document)`, `${what}: ${(error as Error).message}`);
    }
  }

  private async download(key: string, request: SourceRequest, row: CachedRow | null, what: string): Promise<ReadSource> {
    const conditional: Record<string, string> = {};
    if (row?.document && row.etag) conditional['if-none-match'] = row.etag;
    if (row?.document && row.lastModified) conditional['if-modified-since'] = row.lastModified;
    const response = await this.http.get(request.url, { headers: { ...request.headers?.(), ...conditional } });
    const now = new Date();
    if (response.status === 304 && row?.document) {
      const kept = await this.prisma.feedSource.update({ where: { key }, data: { checkedAt: now } });
      return readOf(kept);
    }
    if (response.status !== 200) throw await this.fail(key, request.url, `${what} answered HTTP ${response.status}`);
    const document = request.parse(response.body);
    if (!document) throw await this.fail(key, request.url, `${what} could not be read (no ${WHAT[request.kind]} in it)`);
    const fields = {
      etag: response.headers['etag'] ?? null,
      lastModified: response.headers['last-modified'] ?? null,
      contentHash: createHash('sha256').update(response.body).digest('hex'),
      document: document as unknown as Prisma.InputJsonValue,
      fetchedAt: now,
      checkedAt: now,
    };
    const stored = await this.prisma.feedSource.upsert({
      where: { key },
      create: { key, url: request.url, ...fields },
      update: fields,
    });
    return readOf(stored);
  }
}

type CachedRow = NonNullable<Awaited<ReturnType<PrismaService['feedSource']['findUnique']>>>;

function throwIfBackingOff(row: CachedRow | null, now: Date): void {
  if (row && row.failures > 0 && row.retryAt && row.retryAt > now)
    throw new SourceFailure(row.key, row.url, row.lastError ?? 'failed', row.failures, row.retryAt);
}

const readOf = (row: CachedRow): ReadSource => ({
  url: row.url,
  document: row.document as unknown as FeedDocument,
  fetchedAt: row.fetchedAt!,
  hash: row.contentHash!,
});
