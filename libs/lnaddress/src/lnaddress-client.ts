import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import axios, { type AxiosInstance } from 'axios';
import { parseLightningAddress } from '@splitstream/money';
import { checkInvoice, type CheckedInvoice } from './invoice-check.js';
import { keysendRoute, LnaddressError, LnaddressFailure, payRequestRoute, type AddressRoute } from './route.js';

export interface LnaddressClientOptions {
  timeoutMs: number;
  maxBodyBytes: number;
  production: boolean; // https only, no host map, no callbacks to IP addresses
  hostMap?: Map<string, string>; // domain -> local base URL (tests and local runs only)
  maxCltvExpiryBlocks: number; // an invoice asking for a longer min_final_cltv_expiry is refused
}

export interface InvoiceRequest {
  callback: string;
  msat: bigint;
  comment: string; // '' for none
  metadataHash: string;
}

// An invoice must stay payable at least this long after it arrives.
const MIN_INVOICE_LIFETIME_SECONDS = 60;
const MAX_REDIRECTS = 3;

type Fetched = { status: number; body: unknown };

// Where a feed's address must never send the worker in production: loopback, private, link-local, CGNAT, unique
// local and unspecified addresses (a host name may resolve to one).
const PRIVATE = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['::ffff:0:0', 96]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

// dns lookup that refuses private addresses (axios's `lookup`): checked on the address actually connected to.
async function publicLookup(hostname: string): Promise<{ address: string; family: number }> {
  const found = await lookup(hostname);
  if (PRIVATE.check(found.address, found.family === 6 ? 'ipv6' : 'ipv4')) throw new Error(`${hostname} resolves to a private address`);
  return found;
}

// Resolves Lightning Addresses over HTTP and asks their LNURL-pay callbacks for invoices. Every call has a
// timeout and a body limit, follows redirects only within the same host, and (in production) only over https:
// the addresses come from feeds, so the domain is someone else's server.
export class LnaddressClient {
  private readonly http: AxiosInstance;

  constructor(private readonly options: LnaddressClientOptions) {
    this.http = axios.create({
      timeout: options.timeoutMs,
      maxContentLength: options.maxBodyBytes,
      maxRedirects: MAX_REDIRECTS,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      headers: { Accept: 'application/json' },
      ...(options.production && { lookup: publicLookup }),
    });
  }

  // Keysend where the domain offers it (`/.well-known/keysend/<user>`), otherwise LNURL-pay.
  async resolve(address: string): Promise<AddressRoute> {
    const { user, domain } = parseLightningAddress(address);
    const wellKnown = (kind: string) => this.target(`https://${domain}/.well-known/${kind}/${encodeURIComponent(user)}`).toString();
    const keysend = await this.get(wellKnown('keysend')).catch((error: Error) => error);
    const viaKeysend = keysend instanceof Error || keysend.status !== 200 ? undefined : keysendRoute(keysend.body);
    if (viaKeysend && typeof viaKeysend !== 'string') return viaKeysend;
    const lnurlp = await this.get(wellKnown('lnurlp')).catch((error: Error) => {
      throw new LnaddressError(LnaddressFailure.Unresolved, `${address}: ${error.message}`);
    });
    if (lnurlp.status !== 200 || isErrorAnswer(lnurlp.body)) throw new LnaddressError(LnaddressFailure.Unresolved, `${address}: ${errorText(lnurlp)}`);
    const viaLnurl = payRequestRoute(lnurlp.body);
    if (typeof viaLnurl === 'string') {
      throw new LnaddressError(LnaddressFailure.Unresolved, `${address}: ${[viaKeysend, viaLnurl].filter(Boolean).join('; ')}`);
    }
    this.target(viaLnurl.callback); // a callback this client would never call is no resolution
    return viaLnurl;
  }

  // An invoice for exactly `msat` from the callback, checked before anyone pays it.
  async invoice(request: InvoiceRequest, now = new Date()): Promise<{ invoice: string } & CheckedInvoice> {
    const url = this.target(request.callback);
    url.searchParams.set('amount', String(request.msat));
    if (request.comment) url.searchParams.set('comment', request.comment);
    const answer = await this.get(url.toString()).catch((error: Error) => {
      throw new LnaddressError(LnaddressFailure.InvoiceRefused, `the callback failed: ${error.message}`);
    });
    const pr = answer.status === 200 && isObject(answer.body) ? answer.body.pr : undefined;
    if (typeof pr !== 'string') throw new LnaddressError(LnaddressFailure.InvoiceRefused, `the callback gave no invoice: ${errorText(answer)}`);
    return {
      invoice: pr,
      ...checkInvoice(pr, {
        msat: request.msat,
        metadataHash: request.metadataHash,
        now,
        minLifetimeSeconds: MIN_INVOICE_LIFETIME_SECONDS,
        maxCltvExpiryBlocks: this.options.maxCltvExpiryBlocks,
      }),
    };
  }

  // Where a URL of an address's domain or callback is really called: through the host map (its base URL, path
  // included, in place of scheme and host), else itself: https in production, never an IP in production.
  private target(address: string): URL {
    const url = new URL(address);
    const mapped = this.options.hostMap?.get(url.hostname.toLowerCase());
    if (mapped) return new URL(`${mapped}${url.pathname}${url.search}`);
    this.checkUrl(url);
    return url;
  }

  private checkUrl(url: URL): void {
    const problem = !/^https?:$/.test(url.protocol)
      ? `${url.protocol} URLs are not followed`
      : this.options.production && url.protocol !== 'https:'
        ? 'only https is followed in production'
        : this.options.production && isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0
          ? 'an IP address is not followed in production'
          : undefined;
    if (problem) throw new LnaddressError(LnaddressFailure.Unresolved, `${url.origin}: ${problem}`);
  }

  private async get(url: string): Promise<Fetched> {
    const origin = new URL(url);
    try {
      const response = await this.http.get(url, {
        // axios's timeout is the socket's idle time: a server dripping its answer byte by byte would outlast it.
        signal: AbortSignal.timeout(this.options.timeoutMs),
        beforeRedirect: (next: { hostname?: string; protocol?: string }) => {
          if (next.hostname !== origin.hostname) throw new Error(`redirected to another host (${next.hostname})`);
          if (this.options.production && next.protocol !== 'https:') throw new Error('redirected away from https');
        },
      });
      return { status: response.status, body: parseJson(response.data) };
    } catch (error) {
      throw new Error(describeError(error));
    }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: unknown): unknown {
  try {
    return typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

// LUD-06 errors are {status: "ERROR", reason} (often with HTTP 200); anything else is described by its status.
const isErrorAnswer = (body: unknown) => isObject(body) && body.status === 'ERROR';

function errorText(answer: Fetched): string {
  const reason = isErrorAnswer(answer.body) ? String((answer.body as Record<string, unknown>).reason ?? '') : '';
  return reason ? `the server says: ${reason.slice(0, 200)}` : `HTTP ${answer.status}`;
}

function describeError(error: unknown): string {
  if (axios.isAxiosError(error)) {
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT' || error.code === 'ERR_CANCELED') return 'no answer before the timeout';
    if (error.code === 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED' || /maxContentLength/.test(error.message)) return 'the answer is larger than the body limit';
    if (error.code === 'ERR_FR_TOO_MANY_REDIRECTS') return 'too many redirects';
    return error.code ? `${error.code}${error.message.includes('redirected') ? `: ${error.message}` : ''}` : error.message;
  }
  return (error as Error).message;
}
