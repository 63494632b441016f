import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import {
  InvalidPaymentRequestError,
  type KeysendRequest,
  type NotPaidOutcome,
  type PaidOutcome,
  type PayOptions,
  type PaymentOutcome,
  type RequestRefusal,
  type UnknownOutcome,
} from '../wallet.types.js';

export interface AlbyClientOptions {
  baseUrl: string;
  accessToken: string;
  timeoutMs: number;
  maxRequestsPerSecond: number;
  // Told of every payment request: its route, how long it took, and how it ended (for latency metrics).
  observe?: (route: string, seconds: number, outcome: string) => void;
}

export interface Bolt11Paid extends PaidOutcome {
  description: string;
  paymentRequest: string;
}

export interface OutgoingPayment {
  amountSats: number;
  feeSats: number;
  memo: string;
  paymentHash: string;
  preimage: string;
  customRecords: Record<string, string>; // decoded from the API's base64
  createdAt: Date;
  settledAt: Date | null;
}

// A read of the wallet that failed: `httpStatus` is what the wallet answered, absent when it could not be reached.
export class WalletReadError extends Error {
  override name = 'WalletReadError';
  constructor(
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export interface OutgoingQuery {
  page?: number; // from 1
  items?: number;
  createdAfter?: Date;
  createdBefore?: Date;
}

type Json = Record<string, unknown>;
type Parsed = { ok: true; body: unknown } | { ok: false };

// Socket errors that prove the request never reached the server; every other failure may have paid.
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);
// Error codes (Alby/LNDhub) that mean the server refused or failed the payment for certain.
const REFUSED_CODES = new Set([1, 2, 8, 10]);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const stringRecord = (v: unknown): Record<string, string> => (isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, val]) => [k, String(val)])) : {});

function parseJson(text: unknown): Parsed {
  if (typeof text !== 'string' || text === '') return { ok: false };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const isErrorBody = (body: unknown): body is { error: true; code: number; message: string } =>
  isObject(body) && body.error === true && typeof body.code === 'number';

function retryAfter(response: AxiosResponse): Date | undefined {
  const reset = Number(response.headers['x-rate-limit-reset']);
  return Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : undefined;
}

function paid(body: Json): PaidOutcome {
  return {
    status: 'paid',
    amountSats: num(body.amount),
    feeSats: num(body.fee),
    paymentHash: str(body.payment_hash),
    preimage: str(body.payment_preimage),
    destination: str(body.destination),
    customRecords: stringRecord(body.custom_records),
  };
}

const unknown = (reason: string, httpStatus?: number): UnknownOutcome => ({
  status: 'unknown',
  reason,
  ...(httpStatus !== undefined && { httpStatus }),
});

// LNDhub's code 2 covers both a destination it will not take and the account's balance or send limits.
const WALLET_SIDE_MESSAGE = /balance|reserve|limit|volume/i;

// Whose fault a whole-request refusal is (see RequestRefusal).
function refusalOf(httpStatus: number, code: number, message: string): RequestRefusal {
  if (httpStatus === 429) return 'rate_limit';
  if (httpStatus === 401 || code === 1) return 'wallet';
  if (code === 2 && WALLET_SIDE_MESSAGE.test(message)) return 'wallet';
  return 'contents';
}

// A whole-request error answer: refused for certain (400/401/429 with a known code) or unknown.
function requestError(response: AxiosResponse, parsed: Parsed): NotPaidOutcome | UnknownOutcome {
  const { status } = response;
  if (parsed.ok && isErrorBody(parsed.body) && status >= 400 && status < 500 && REFUSED_CODES.has(parsed.body.code)) {
    const rateLimit = status === 429 ? retryAfter(response) : undefined;
    return {
      status: 'not_paid',
      code: parsed.body.code,
      message: parsed.body.message,
      httpStatus: status,
      scope: 'request',
      refusal: refusalOf(status, parsed.body.code, parsed.body.message),
      ...(rateLimit && { retryAfter: rateLimit }),
    };
  }
  if (parsed.ok && isErrorBody(parsed.body)) {
    return unknown(`HTTP ${status}, code ${parsed.body.code}: ${parsed.body.message}`, status);
  }
  return unknown(parsed.ok ? `HTTP ${status} with an unexpected body` : `HTTP ${status} with an unparseable body`, status);
}

function validateKeysend(request: KeysendRequest, index?: number): void {
  const where = index === undefined ? 'keysend' : `keysends[${index}]`;
  if (!Number.isSafeInteger(request.amountSats) || request.amountSats <= 0) {
    throw new InvalidPaymentRequestError(`${where}.amountSats must be a whole number of sats above 0, got ${request.amountSats}`);
  }
  if (!/^0[23][0-9a-f]{64}$/i.test(request.destination)) {
    throw new InvalidPaymentRequestError(`${where}.destination must be a 66-hex compressed node pubkey`);
  }
}

const toBody = (r: KeysendRequest) => ({
  amount: r.amountSats,
  destination: r.destination,
  ...(r.memo !== undefined && { memo: r.memo }),
  ...(r.customRecords !== undefined && { custom_records: r.customRecords }),
});

// Typed client for the Alby Wallet API payment routes, as the server really behaves
// (shared/notes/alby-wallet-api.md). Every payment call ends in paid / not_paid / unknown and is never retried
// here: a retry of a payment whose outcome is unknown could pay twice. The access token never leaves the
// Authorization header: no message or outcome built here contains it.
export class AlbyClient {
  private readonly http: AxiosInstance;
  private readonly minIntervalMs: number;
  private readonly observe: NonNullable<AlbyClientOptions['observe']>;
  private nextSlot = 0;

  constructor(options: AlbyClientOptions) {
    this.minIntervalMs = Math.ceil(1000 / options.maxRequestsPerSecond);
    this.observe = options.observe ?? (() => undefined);
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      headers: { Authorization: `Bearer ${options.accessToken}`, 'Content-Type': 'application/json' },
      // Every status and body is classified here, as text first, so a garbled answer is seen as one.
      validateStatus: () => true,
      transformResponse: [(data: unknown) => data],
      responseType: 'text',
      maxRedirects: 0,
    });
  }

  async keysend(request: KeysendRequest): Promise<PaymentOutcome> {
    validateKeysend(request);
    return this.post('/payments/keysend', toBody(request), {}, (response, parsed) => {
      // LNDhub sets no status on a payment failure, so it can arrive as 200 with `error: true`.
      if (parsed.ok && isErrorBody(parsed.body) && parsed.body.code === 10) {
        return { status: 'not_paid', code: 10, message: parsed.body.message, httpStatus: response.status, scope: 'item' };
      }
      if (response.status === 200 && parsed.ok && isObject(parsed.body) && !isErrorBody(parsed.body)) {
        return isPaidBody(parsed.body) ? paid(parsed.body) : unknown('HTTP 200 without a payment hash', 200);
      }
      return requestError(response, parsed);
    });
  }

  async keysendMulti(requests: KeysendRequest[], options: PayOptions = {}): Promise<PaymentOutcome[]> {
    if (requests.length === 0) return [];
    requests.forEach((r, i) => validateKeysend(r, i));
    const all = (outcome: PaymentOutcome) => requests.map(() => outcome);
    return this.post(
      '/payments/keysend/multi',
      { keysends: requests.map(toBody) },
      options,
      (response, parsed) => {
        // 200 when at least one item succeeded, 500 when all failed: the same body either way.
        const items = parsed.ok && isObject(parsed.body) ? parsed.body.keysends : undefined;
        if ((response.status === 200 || response.status === 500) && Array.isArray(items)) {
          if (items.length !== requests.length) {
            return all(unknown(`HTTP ${response.status} with ${items.length} results for ${requests.length} keysends`, response.status));
          }
          return items.map((item): PaymentOutcome => multiItemOutcome(item, response.status));
        }
        return all(requestError(response, parsed));
      },
      all,
    );
  }

  async payBolt11(invoice: string, amountSats?: number, options: PayOptions = {}): Promise<PaymentOutcome> {
    if (amountSats !== undefined && (!Number.isSafeInteger(amountSats) || amountSats <= 0)) {
      throw new InvalidPaymentRequestError(`amountSats must be a whole number of sats above 0, got ${amountSats}`);
    }
    const body = { invoice, ...(amountSats !== undefined && { amount: amountSats }) };
    return this.post('/payments/bolt11', body, options, (response, parsed) => {
      if (parsed.ok && isErrorBody(parsed.body) && parsed.body.code === 10) {
        return { status: 'not_paid', code: 10, message: parsed.body.message, httpStatus: response.status, scope: 'item' };
      }
      if (response.status === 200 && parsed.ok && isObject(parsed.body) && isPaidBody(parsed.body)) {
        return { ...paid(parsed.body), description: str(parsed.body.description), paymentRequest: str(parsed.body.payment_request) } as Bolt11Paid;
      }
      return requestError(response, parsed);
    });
  }

  // Settled outgoing payments, newest first (for reconciling unknown outcomes).
  async listOutgoing(query: OutgoingQuery = {}): Promise<OutgoingPayment[]> {
    await this.pace();
    const params: Record<string, string | number> = {};
    if (query.page !== undefined) params.page = query.page;
    if (query.items !== undefined) params.items = query.items;
    if (query.createdAfter) params['q[created_at_gt]'] = Math.floor(query.createdAfter.getTime() / 1000);
    if (query.createdBefore) params['q[created_at_lt]'] = Math.floor(query.createdBefore.getTime() / 1000);
    let response: AxiosResponse;
    try {
      response = await this.http.get('/invoices/outgoing', { params });
    } catch (error) {
      throw new WalletReadError(`GET /invoices/outgoing failed: ${errorCode(error)}`);
    }
    const parsed = parseJson(response.data);
    if (response.status !== 200 || !parsed.ok || !Array.isArray(parsed.body)) {
      const detail = parsed.ok && isErrorBody(parsed.body) ? `code ${parsed.body.code}: ${parsed.body.message}` : 'unexpected body';
      throw new WalletReadError(`GET /invoices/outgoing answered HTTP ${response.status} (${detail})`, response.status);
    }
    return parsed.body.filter(isObject).map((item) => ({
      amountSats: num(item.amount),
      feeSats: num(item.fee),
      memo: str(item.memo),
      paymentHash: str(item.payment_hash),
      preimage: str(item.preimage),
      customRecords: Object.fromEntries(Object.entries(stringRecord(item.custom_records)).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])),
      createdAt: new Date(str(item.created_at)),
      settledAt: item.settled_at ? new Date(str(item.settled_at)) : null,
    }));
  }

  private async post<T>(
    path: string,
    body: unknown,
    { signal }: PayOptions,
    classify: (response: AxiosResponse, parsed: Parsed) => T,
    fanOut: (outcome: PaymentOutcome) => T = (o) => o as T,
  ): Promise<T> {
    await this.pace();
    if (signal?.aborted) {
      return fanOut({ status: 'not_paid', code: null, message: 'not sent: the payment run was stopped', scope: 'request', refusal: 'wallet' });
    }
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    let response: AxiosResponse;
    try {
      response = await this.http.post(path, body, { signal });
    } catch (error) {
      const code = errorCode(error);
      this.observe(path, seconds(), NEVER_SENT.has(code) ? 'unreachable' : 'no_answer');
      if (NEVER_SENT.has(code)) {
        return fanOut({ status: 'not_paid', code: null, message: `wallet API unreachable (${code})`, scope: 'request', refusal: 'wallet' });
      }
      return fanOut(unknown(`no answer from the wallet API (${code}): the payment may have gone out`));
    }
    this.observe(path, seconds(), `http_${response.status}`);
    return classify(response, parseJson(response.data));
  }

  // Spaces requests to stay within the API's per-user rate limit (LNDhub: about 10/s, burst 1).
  private async pace(): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.minIntervalMs;
    if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
  }
}

const isPaidBody = (body: Json): boolean => typeof body.payment_hash === 'string' && body.payment_hash !== '';

function multiItemOutcome(item: unknown, httpStatus: number): PaymentOutcome {
  if (!isObject(item)) return unknown('unparseable keysend result', httpStatus);
  if (isErrorBody(item.error)) {
    return REFUSED_CODES.has(item.error.code)
      ? { status: 'not_paid', code: item.error.code, message: item.error.message, httpStatus, scope: 'item' }
      : unknown(`code ${item.error.code}: ${item.error.message}`, httpStatus);
  }
  return isObject(item.keysend) && isPaidBody(item.keysend) ? paid(item.keysend) : unknown('keysend result without a payment hash', httpStatus);
}

// Only the error's code: axios errors carry the request config, Authorization header included.
function errorCode(error: unknown): string {
  if (axios.isAxiosError(error)) return error.code ?? 'ERR_NETWORK';
  return error instanceof Error ? error.name : 'unknown error';
}
