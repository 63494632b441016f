import { GuardedHttp, OutboundError, ipLiteral, type ResolvedAddress, type Resolver } from '@splitstream/outbound';
import { parseLightningAddress } from '@splitstream/money';
import { checkInvoice, type CheckedInvoice } from './invoice-check.js';
import { keysendRoute, LnaddressError, LnaddressFailure, payRequestRoute, type AddressRoute } from './route.js';

export interface LnaddressClientOptions {
  timeoutMs: number;
  maxBodyBytes: number; // per answer; LUD-06 metadata may carry a ~136 KB base64 image, so the default is 256 KiB
  production: boolean; // https only (redirects too), no callbacks at an IP address
  // Tests and local runs only (OUTBOUND_ALLOW_PRIVATE): destinations that are not global unicast may be called.
  allowPrivate: boolean;
  hostMap?: Map<string, string>; // domain -> local base URL (tests and local runs only)
  maxCltvExpiryBlocks: number; // an invoice asking for a longer min_final_cltv_expiry is refused
  resolve?: Resolver; // DNS (tests give fake answers); the system resolver by default
  dial?: (checked: ResolvedAddress) => ResolvedAddress; // tests only: see GuardedHttpOptions.dial
}

export interface InvoiceRequest {
  callback: string;
  msat: bigint;
  comment: string; // '' for none; already cut to the address's commentAllowed
  metadataHash: string;
}

// An invoice must stay payable at least this long after it arrives.
const MIN_INVOICE_LIFETIME_SECONDS = 60;
const MAX_REDIRECTS = 3;

// What a recipient's lastErrorMessage says (apps read it): the coded reason in words, never a transport error, an
// address or what a server answered. The detail (LnaddressError.detail) goes to the worker's log.
export const LNADDRESS_FAILURE_TEXT = {
  domainUnreachable: "the address's domain could not be reached",
  domainRefused: "the address's domain gave no usable way to pay it",
  callbackUnreachable: "the address's payment server could not be reached",
  noInvoice: "the address's payment server gave no invoice",
} as const;

type Fetched = { status: number; body: unknown };

// Resolves Lightning Addresses over HTTP and asks their LNURL-pay callbacks for invoices, every call through the
// guarded outbound client (libs/outbound): only global unicast destinations unless allowPrivate, redirects within
// the same origin only, a deadline and a body limit per answer; in production https only. The addresses come from
// feeds, so the domain is someone else's server.
export class LnaddressClient {
  private readonly http: GuardedHttp;

  constructor(private readonly options: LnaddressClientOptions) {
    this.http = new GuardedHttp({
      timeoutMs: options.timeoutMs,
      maxBodyBytes: options.maxBodyBytes,
      allowPrivate: options.allowPrivate,
      httpsOnly: options.production,
      maxRedirects: MAX_REDIRECTS,
      headers: { Accept: 'application/json' },
      ...(options.resolve && { resolve: options.resolve }),
      ...(options.dial && { dial: options.dial }),
    });
  }

  // Keysend where the domain offers it (`/.well-known/keysend/<user>`), otherwise LNURL-pay. A domain that does not
  // answer the first call (no connection, no answer in time) is not asked the second: it costs one timeout.
  async resolve(address: string): Promise<AddressRoute> {
    const { user, domain } = parseLightningAddress(address);
    const wellKnown = (kind: string) => this.target(`https://${domain}/.well-known/${kind}/${encodeURIComponent(user)}`).toString();
    const keysend = await this.get(wellKnown('keysend')).catch((error: OutboundError) => error);
    if (keysend instanceof Error && isUnanswered(keysend)) {
      throw unreachableOr(keysend, LnaddressFailure.Refused, LNADDRESS_FAILURE_TEXT.domainUnreachable, LNADDRESS_FAILURE_TEXT.domainRefused, address);
    }
    const viaKeysend = keysend instanceof Error || keysend.status !== 200 ? undefined : keysendRoute(keysend.body);
    if (viaKeysend && typeof viaKeysend !== 'string') return viaKeysend;
    const lnurlp = await this.get(wellKnown('lnurlp')).catch((error: OutboundError) => {
      throw unreachableOr(error, LnaddressFailure.Refused, LNADDRESS_FAILURE_TEXT.domainUnreachable, LNADDRESS_FAILURE_TEXT.domainRefused, address);
    });
    const refused = (detail: string) => new LnaddressError(LnaddressFailure.Refused, LNADDRESS_FAILURE_TEXT.domainRefused, `${address}: ${detail}`);
    if (lnurlp.status !== 200 || isErrorAnswer(lnurlp.body)) throw refused(errorText(lnurlp));
    const viaLnurl = payRequestRoute(lnurlp.body);
    if (typeof viaLnurl === 'string') throw refused([viaKeysend, viaLnurl].filter(Boolean).join('; '));
    const callbackProblem = this.callbackProblem(viaLnurl.callback); // a callback this client would never call is no route
    if (callbackProblem) throw refused(`its callback ${callbackProblem}`);
    return viaLnurl;
  }

  // An invoice for exactly `msat` from the callback, checked before anyone pays it.
  async invoice(request: InvoiceRequest, now = new Date()): Promise<{ invoice: string } & CheckedInvoice> {
    const problem = this.callbackProblem(request.callback);
    if (problem) throw new LnaddressError(LnaddressFailure.InvoiceRefused, LNADDRESS_FAILURE_TEXT.noInvoice, `the callback ${problem}`);
    const url = this.target(request.callback);
    url.searchParams.set('amount', String(request.msat));
    if (request.comment) url.searchParams.set('comment', request.comment);
    const answer = await this.get(url.toString()).catch((error: OutboundError) => {
      throw unreachableOr(error, LnaddressFailure.InvoiceRefused, LNADDRESS_FAILURE_TEXT.callbackUnreachable, LNADDRESS_FAILURE_TEXT.noInvoice, 'the callback');
    });
    const pr = answer.status === 200 && isObject(answer.body) ? answer.body.pr : undefined;
    if (typeof pr !== 'string') {
      throw new LnaddressError(LnaddressFailure.InvoiceRefused, LNADDRESS_FAILURE_TEXT.noInvoice, `the callback gave no invoice: ${errorText(answer)}`);
    }
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
  // included, in place of scheme and host), else itself. The guarded client judges the destination.
  private target(address: string): URL {
    const url = new URL(address);
    const mapped = this.options.hostMap?.get(url.hostname.toLowerCase());
    return mapped ? new URL(`${mapped}${url.pathname}${url.search}`) : url;
  }

  // Why a callback URL is never called (before the host map): not http(s); in production, not https or at an IP.
  private callbackProblem(callback: string): string | undefined {
    const url = new URL(callback);
    if (this.options.hostMap?.has(url.hostname.toLowerCase())) return undefined;
    if (!/^https?:$/.test(url.protocol)) return `is a ${url.protocol} URL`;
    if (this.options.production && url.protocol !== 'https:') return `(${url.origin}) is not https`;
    if (this.options.production && ipLiteral(url.hostname) !== undefined) return `(${url.origin}) is at an IP address`;
    return undefined;
  }

  private async get(url: string): Promise<Fetched> {
    const response = await this.http.get(url);
    return { status: response.status, body: parseJson(response.body) };
  }
}

// A call that got no answer: unreachable (DNS, connection, timeout, a destination the guard refuses) is
// lnaddress_unreachable; an answer that cannot be used (too large, redirected elsewhere) is `otherwise`.
function unreachableOr(error: unknown, otherwise: LnaddressFailure, unreachableText: string, otherText: string, what: string): LnaddressError {
  if (!(error instanceof OutboundError)) return new LnaddressError(otherwise, otherText, `${what}: ${(error as Error).message}`);
  return isUnanswered(error)
    ? new LnaddressError(LnaddressFailure.Unreachable, unreachableText, `${what}: ${error.message}`)
    : new LnaddressError(otherwise, otherText, `${what}: ${error.message}`);
}

const isUnanswered = (error: unknown) =>
  error instanceof OutboundError && (error.failure === 'destination' || error.failure === 'unreachable' || error.failure === 'timeout');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// LUD-06 errors are {status: "ERROR", reason} (often with HTTP 200); anything else is described by its status.
const isErrorAnswer = (body: unknown) => isObject(body) && body.status === 'ERROR';

// A LUD-06 reason is any domain's text: control and format characters (line breaks, terminal escapes, direction
// overrides) become spaces before it reaches a log line, an error detail or an operator's screen.
function errorText(answer: Fetched): string {
  const reason = isErrorAnswer(answer.body) ? String((answer.body as Record<string, unknown>).reason ?? '') : '';
  return reason ? `the server says: ${reason.slice(0, 200).replace(/[\p{Cc}\p{Cf}]/gu, ' ')}` : `HTTP ${answer.status}`;
}
