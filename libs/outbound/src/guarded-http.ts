import { lookup as dnsLookup } from 'node:dns/promises';
import axios, { type AxiosInstance } from 'axios';
import { ipLiteral, isGlobalUnicast } from './address.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
// What a host name resolves to (every answer). Injectable so tests can give fake DNS answers.
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface GuardedHttpOptions {
  timeoutMs: number; // the whole answer: DNS, connect, redirects and the last byte of the body
  maxBodyBytes: number; // per answer, after decompression
  // Tests and local runs only (OUTBOUND_ALLOW_PRIVATE, refused in production): any destination may be called.
  allowPrivate: boolean;
  httpsOnly?: boolean; // plain http (first URL and redirects) refused
  maxRedirects?: number; // default 3; each one to the same origin (scheme, host and port) only
  resolve?: Resolver; // default: the system resolver (dns.lookup, every address)
  // Tests only, never set from configuration: the address actually dialled once the guard accepted `checked`
  // (lets a fake public DNS answer reach a local server). Identity by default.
  dial?: (checked: ResolvedAddress) => ResolvedAddress;
  headers?: Record<string, string>;
}

export interface OutboundResponse {
  status: number;
  body: string;
  url: string; // the URL that answered (after same-origin redirects)
  headers: Record<string, string>; // the answer's single-valued headers, names in lower case (etag, last-modified)
}

export interface GetOptions {
  maxBodyBytes?: number;
  // Request headers of this call only (If-None-Match, If-Modified-Since for a conditional GET).
  headers?: Record<string, string>;
}

// Why an outbound call gave no answer. `destination`: the URL's host is, or resolves to, an address that is not
// global unicast; `unreachable`: DNS or connection failure; `timeout`: no whole answer in time; `too_large`: the
// body is over the limit; `redirect`: a redirect elsewhere than the same origin, or too many; `scheme`: not http(s),
// or http where only https is allowed.
export type OutboundFailure = 'destination' | 'unreachable' | 'timeout' | 'too_large' | 'redirect' | 'scheme';

export class OutboundError extends Error {
  override name = 'OutboundError';
  constructor(
    readonly failure: OutboundFailure,
    message: string, // for logs and admins: may name hosts, addresses and transport errors
  ) {
    super(message);
  }
}

const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

// The one HTTP client for calls to other people's servers (Lightning addresses, LNURL callbacks, podcast feeds and
// the Podcast Index value API). Unless allowPrivate: only global unicast destinations (see isGlobalUnicast), checked on the
// address actually connected to (the socket's DNS lookup is this guard, so a name cannot resolve one way for a
// check and another for the connection), IP-literal URLs checked before any connection; redirects followed only to
// the same origin; one deadline for the whole answer (a server dripping bytes cannot outlast it) and a body limit.
// No proxy from the environment is used (it would be the address connected to).
export class GuardedHttp {
  private readonly http: AxiosInstance;
  private readonly resolve: Resolver;

  constructor(private readonly options: GuardedHttpOptions) {
    this.resolve = options.resolve ?? systemResolver;
    this.http = axios.create({
      timeout: options.timeoutMs,
      maxRedirects: 0,
      proxy: false,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      headers: options.headers,
      // Node calls this for every connection to a name (never for an IP literal, which `checkUrl` judges).
      lookup: this.guardedLookup,
    });
  }

  // GET `url`, following redirects within its origin. Throws OutboundError (never a transport error).
  async get(url: string, options: GetOptions = {}): Promise<OutboundResponse> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let current = this.checkUrl(url);
    for (let redirects = 0; ; redirects++) {
      const response = await this.once(current, signal, options.maxBodyBytes ?? this.options.maxBodyBytes, options.headers);
      const location = response.status >= 300 && response.status < 400 ? response.location : undefined;
      if (!location) return { status: response.status, body: response.body, url: current.toString(), headers: response.headers };
      if (redirects >= (this.options.maxRedirects ?? 3)) throw new OutboundError('redirect', `${current.origin}: too many redirects`);
      const next = URL.canParse(location, current.toString()) ? new URL(location, current) : undefined;
      if (!next || next.origin !== current.origin) {
        throw new OutboundError('redirect', `${current.origin}: redirected to another origin (${next?.origin ?? JSON.stringify(location.slice(0, 200))})`);
      }
      current = next;
    }
  }

  private checkUrl(text: string): URL {
    if (!URL.canParse(text)) throw new OutboundError('scheme', `${JSON.stringify(text.slice(0, 200))} is not a URL`);
    const url = new URL(text);
    if (!/^https?:$/.test(url.protocol)) throw new OutboundError('scheme', `${url.protocol} URLs are not followed`);
    if (this.options.httpsOnly && url.protocol !== 'https:') throw new OutboundError('scheme', `${url.origin}: only https is followed`);
    if (url.username || url.password) throw new OutboundError('scheme', `${url.origin}: URLs with credentials are not followed`);
    const literal = ipLiteral(url.hostname);
    if (literal !== undefined && !this.options.allowPrivate && !isGlobalUnicast(literal)) {
      throw new OutboundError('destination', `${url.origin}: ${literal} is not a global unicast address`);
    }
    return url;
  }

  private async once(
    url: URL,
    signal: AbortSignal,
    maxBodyBytes: number,
    headers: Record<string, string> | undefined,
  ): Promise<{ status: number; body: string; location?: string; headers: Record<string, string> }> {
    try {
      const response = await this.http.get<string>(url.toString(), { signal, maxContentLength: maxBodyBytes, ...(headers && { headers }) });
      const location = response.headers['location'];
      const answered = Object.fromEntries(Object.entries(response.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
      return { status: response.status, body: String(response.data ?? ''), headers: answered, ...(typeof location === 'string' && { location }) };
    } catch (error) {
      throw asOutboundError(error, url, signal);
    }
  }

  // dns lookup for the socket: every answer must be global unicast (one that is not refuses the name), unless
  // allowPrivate. Arrow function: axios caches its wrapper per function.
  private readonly guardedLookup = async (hostname: string): Promise<ResolvedAddress[]> => {
    let found: ResolvedAddress[];
    try {
      found = await this.resolve(hostname);
    } catch (error) {
      throw new OutboundError('unreachable', `${hostname} did not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (found.length === 0) throw new OutboundError('unreachable', `${hostname} did not resolve (no address)`);
    const refused = this.options.allowPrivate ? [] : found.filter((a) => !isGlobalUnicast(a.address));
    if (refused.length)
      throw new OutboundError('destination', `${hostname} resolves to ${refused.map((a) => a.address).join(', ')}, not a global unicast address`);
    return this.options.dial ? found.map(this.options.dial) : found;
  };
}

function asOutboundError(error: unknown, url: URL, signal: AbortSignal): OutboundError {
  if (error instanceof OutboundError) return error;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof OutboundError) return cause;
  if (signal.aborted) return new OutboundError('timeout', `${url.origin}: no whole answer within the timeout`);
  if (axios.isAxiosError(error)) {
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT' || error.code === 'ERR_CANCELED') {
      return new OutboundError('timeout', `${url.origin}: no answer within the timeout`);
    }
    if (/maxContentLength/.test(error.message)) return new OutboundError('too_large', `${url.origin}: the answer is larger than the body limit`);
    return new OutboundError('unreachable', `${url.origin}: ${error.code ?? 'error'} ${error.message}`.trim());
  }
  return new OutboundError('unreachable', `${url.origin}: ${(error as Error).message}`);
}
