import { createHash, randomBytes } from 'node:crypto';
import bolt11 from 'bolt11';
import { simulatedPreimage } from '@splitstream/lightning-sim';

// The wallet behind the simulated Alby Wallet API: balance, fees, payments, and the failures a test injects.
// It follows the open-source LNDhub server's rules (shared/notes/alby-wallet-api.md).

export const MESSAGES = {
  badAuth: 'bad auth',
  tooManyRequests: 'Too many requests',
  badArguments: 'Bad arguments',
  notEnoughBalance: 'not enough balance. Make sure you have at least 1% reserved for potential fees',
  invalidDestination: 'invalid destination pubkey',
  invoiceExpired: 'invoice expired',
  wrongNetwork: 'invoice is for another network',
  generalError: 'Something went wrong. Please try again later',
  noRoute: 'FAILURE_REASON_NO_ROUTE',
} as const;

export interface SimError {
  httpStatus: number;
  code: number;
  message: string;
}

export interface DestinationRule {
  fail?: { code: number; message: string }; // fail every attempt
  failFirst?: number; // fail the first N attempts (code 10, or `fail`'s code and message)
  delayMs?: number; // before paying
  hang?: boolean; // pay, then never answer the request
  respondWith?: { status: number; body: string }; // pay, then answer this raw response (a proxy error, garbage)
  // refuse every request that contains this destination, before paying anything (400 with code 2 or 8), as
  // LNDhub does for a destination or custom records it will not take
  refuse?: { code: 2 | 8; message: string };
}

export interface SimSettings {
  balanceSats: number;
  feePpm: number; // routing fee actually charged, parts per million (capped like the real server)
  latencyMs: number; // added to every request
  failureRate: number; // 0..1, code 10 no_route, drawn from a seeded generator
  seed: number;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  internalNode: string | null; // a node that requires record 696969, like Alby's own
}

export const DEFAULT_SETTINGS: SimSettings = {
  balanceSats: 100_000_000,
  feePpm: 1_000,
  latencyMs: 0,
  failureRate: 0,
  seed: 1,
  rateLimitPerSecond: 10,
  rateLimitBurst: 1,
  internalNode: null,
};

export interface KeysendItem {
  amount: number;
  destination: string;
  memo?: string;
  custom_records?: Record<string, string>;
}

export interface Payment {
  id: number;
  kind: 'keysend' | 'bolt11';
  amount: number;
  fee: number;
  destination: string;
  memo: string;
  customRecords: Record<string, string>;
  paymentHash: string;
  preimage: string;
  createdAt: Date;
}

export interface Attempt {
  kind: 'keysend' | 'bolt11';
  amount: number;
  destination: string;
  customRecords: Record<string, string>;
  outcome: 'paid' | 'failed';
  error?: { code: number; message: string };
  at: Date;
}

export type ItemResult = { ok: true; payment: Payment } | { ok: false; error: { code: number; message: string } };

const PUBKEY = /^0[23][0-9a-fA-F]{64}$/;

// Small seeded generator (mulberry32): the same seed gives the same failures.
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// The server's fee cap: 10 sats up to 1000 sats, else ceil(1%) + 1.
export const feeCap = (amount: number): number => (amount <= 1_000 ? 10 : Math.ceil(amount / 100) + 1);

export class Simulator {
  settings: SimSettings = { ...DEFAULT_SETTINGS };
  private rules = new Map<string, DestinationRule>();
  private attemptsByDestination = new Map<string, number>();
  private buckets = new Map<string, { tokens: number; at: number }>();
  private random = seededRandom(DEFAULT_SETTINGS.seed);
  readonly payments: Payment[] = [];
  readonly attempts: Attempt[] = [];

  reset(): void {
    this.settings = { ...DEFAULT_SETTINGS };
    this.rules.clear();
    this.attemptsByDestination.clear();
    this.buckets.clear();
    this.random = seededRandom(this.settings.seed);
    this.payments.length = 0;
    this.attempts.length = 0;
  }

  configure(changes: Partial<SimSettings>): void {
    this.settings = { ...this.settings, ...changes };
    if (changes.seed !== undefined) this.random = seededRandom(changes.seed);
    if (changes.rateLimitBurst !== undefined || changes.rateLimitPerSecond !== undefined) this.buckets.clear();
  }

  setRule(destination: string, rule: DestinationRule): void {
    this.rules.set(destination.toLowerCase(), rule);
    this.attemptsByDestination.delete(destination.toLowerCase());
  }

  clearRule(destination: string): void {
    this.rules.delete(destination.toLowerCase());
  }

  rule(destination: string): DestinationRule | undefined {
    return this.rules.get(destination.toLowerCase());
  }

  // Token bucket per access token; false when the request is over the limit.
  takeRateToken(token: string, now = Date.now()): { allowed: boolean; resetAt: number; remaining: number } {
    const { rateLimitPerSecond: rate, rateLimitBurst: burst } = this.settings;
    const bucket = this.buckets.get(token) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.buckets.set(token, bucket);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const resetAt = Math.ceil((now + (Math.max(0, 1 - bucket.tokens) / rate) * 1000) / 1000);
    return { allowed, resetAt, remaining: Math.floor(bucket.tokens) };
  }

  // Validation the real server does before paying anything; one bad item rejects the whole request.
  validateKeysend(item: unknown): SimError | undefined {
    if (typeof item !== 'object' || item === null) return { httpStatus: 400, code: 8, message: MESSAGES.badArguments };
    const k = item as Record<string, unknown>;
    if (typeof k.amount !== 'number' || !Number.isInteger(k.amount) || k.amount <= 0) {
      return { httpStatus: 400, code: 8, message: MESSAGES.badArguments };
    }
    if (typeof k.destination !== 'string' || k.destination === '') return { httpStatus: 400, code: 8, message: MESSAGES.badArguments };
    if (k.memo !== undefined && typeof k.memo !== 'string') return { httpStatus: 400, code: 8, message: MESSAGES.badArguments };
    if (k.custom_records !== undefined) {
      if (typeof k.custom_records !== 'object' || k.custom_records === null) return { httpStatus: 400, code: 8, message: MESSAGES.badArguments };
      for (const [key, value] of Object.entries(k.custom_records)) {
        if (!/^[0-9]+$/.test(key) || typeof value !== 'string') return { httpStatus: 400, code: 8, message: MESSAGES.badArguments };
      }
    }
    if (!PUBKEY.test(k.destination)) return { httpStatus: 400, code: 2, message: MESSAGES.invalidDestination };
    const refusal = this.rule(k.destination)?.refuse;
    if (refusal) return { httpStatus: 400, ...refusal };
    const internal = this.settings.internalNode;
    if (internal && k.destination.toLowerCase() === internal.toLowerCase() && !(k.custom_records as Record<string, string> | undefined)?.['696969']) {
      return { httpStatus: 400, code: 8, message: 'missing custom record 696969 for a wallet on this node' };
    }
    return undefined;
  }

  // The balance check, once against the sum, with the 1% fee reserve.
  checkBalance(totalSats: number): SimError | undefined {
    return this.settings.balanceSats * 100 < totalSats * 101 ? { httpStatus: 400, code: 2, message: MESSAGES.notEnoughBalance } : undefined;
  }

  async payKeysend(item: KeysendItem): Promise<ItemResult> {
    const records = item.custom_records ?? {};
    return this.attempt('keysend', item.amount, item.destination, records, item.memo ?? '');
  }

  async payInvoice(invoice: string, amount: number | undefined, now = new Date()): Promise<ItemResult | SimError> {
    let decoded: bolt11.PaymentRequestObject;
    try {
      decoded = bolt11.decode(invoice);
    } catch {
      return { httpStatus: 400, code: 8, message: MESSAGES.badArguments };
    }
    if (decoded.network?.bech32 !== 'bc') return { httpStatus: 400, code: 2, message: MESSAGES.wrongNetwork };
    if (decoded.timeExpireDate !== undefined && decoded.timeExpireDate * 1000 <= now.getTime()) {
      return { httpStatus: 400, code: 2, message: MESSAGES.invoiceExpired };
    }
    const invoiceSats = decoded.millisatoshis ? Math.ceil(Number(decoded.millisatoshis) / 1000) : undefined;
    const sats = invoiceSats ?? amount;
    if (sats === undefined || !Number.isInteger(sats) || sats <= 0) return { httpStatus: 400, code: 8, message: MESSAGES.badArguments };
    const balanceError = this.checkBalance(sats);
    if (balanceError) return balanceError;
    const hash = decoded.tags.find((t) => t.tagName === 'payment_hash')?.data as string | undefined;
    return this.attempt('bolt11', sats, decoded.payeeNodeKey ?? '', {}, '', hash, simulatedPreimage(invoice));
  }

  private async attempt(
    kind: Payment['kind'],
    amount: number,
    destination: string,
    customRecords: Record<string, string>,
    memo: string,
    invoiceHash?: string,
    invoicePreimage?: string, // known for the simulated network's invoices; other invoices get a made-up one
  ): Promise<ItemResult> {
    const rule = this.rule(destination);
    if (rule?.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
    const seen = (this.attemptsByDestination.get(destination.toLowerCase()) ?? 0) + 1;
    this.attemptsByDestination.set(destination.toLowerCase(), seen);
    const failure = this.failureFor(rule, seen);
    if (failure || this.settings.balanceSats < amount) {
      const error = failure ?? { code: 10, message: 'FAILURE_REASON_INSUFFICIENT_BALANCE' };
      this.attempts.push({ kind, amount, destination, customRecords, outcome: 'failed', error, at: new Date() });
      return { ok: false, error };
    }
    const fee = Math.min(Math.ceil((amount * this.settings.feePpm) / 1_000_000), feeCap(amount));
    const preimage = invoicePreimage ?? randomBytes(32).toString('hex');
    const payment: Payment = {
      id: this.payments.length + 1,
      kind,
      amount,
      fee,
      destination,
      memo,
      customRecords,
      paymentHash: invoiceHash ?? createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex'),
      preimage,
      createdAt: new Date(),
    };
    this.settings.balanceSats -= amount + fee;
    this.payments.push(payment);
    this.attempts.push({ kind, amount, destination, customRecords, outcome: 'paid', at: payment.createdAt });
    return { ok: true, payment };
  }

  private failureFor(rule: DestinationRule | undefined, attempt: number): { code: number; message: string } | undefined {
    if (rule?.fail && rule.failFirst === undefined) return rule.fail;
    if (rule?.failFirst !== undefined && attempt <= rule.failFirst) return rule.fail ?? { code: 10, message: MESSAGES.noRoute };
    if (this.settings.failureRate > 0 && this.random() < this.settings.failureRate) return { code: 10, message: MESSAGES.noRoute };
    return undefined;
  }
}
