import { randomBytes } from 'node:crypto';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { WebSocket } from 'ws';
import { type Encryption, Nip47Cipher, Nip47Error, type Nip47ErrorCode, NWC_INFO_KIND, NWC_REQUEST_KIND, NWC_RESPONSE_KIND } from '@splitstream/wallet';
import bolt11 from 'bolt11';
import { simulatedPreimage } from '@splitstream/lightning-sim';
import { paymentHashOf } from '@splitstream/money';

useWebSocketImplementation(WebSocket);

// A NIP-47 wallet service for development and tests, behaving as Alby Hub does where it matters to a payer:
// it executes requests once (de-duplicated by event id, refused once expired), refuses a second payment of a hash
// it already paid, reports fees in msat, answers lookup_invoice and list_transactions for keysends, and can be
// told to fail a destination with a code, hang (pay, never answer), delay, or run out of balance.

export interface NwcRule {
  fail?: { code: Nip47ErrorCode; message: string };
  failFirst?: number; // fail the first N attempts (PAYMENT_FAILED, or `fail`'s code)
  delayMs?: number;
  hang?: boolean; // pay, then never answer
}

export interface NwcSettings {
  balanceMsat: number;
  feePpm: number;
  methods: string[]; // what get_info and the info event list; anything else is NOT_IMPLEMENTED
  encryptions: Encryption[]; // what the info event advertises
}

export const ALL_METHODS = ['pay_keysend', 'multi_pay_keysend', 'pay_invoice', 'lookup_invoice', 'list_transactions', 'get_balance', 'get_info'];

export const DEFAULT_NWC_SETTINGS: NwcSettings = {
  balanceMsat: 100_000_000_000,
  feePpm: 1_000,
  methods: ALL_METHODS,
  encryptions: ['nip44_v2', 'nip04'],
};

export interface NwcTransaction {
  type: 'outgoing';
  state: 'settled' | 'failed';
  amount: number; // msat
  fees_paid: number; // msat
  payment_hash: string;
  preimage: string;
  invoice: string;
  description: '';
  created_at: number;
  settled_at: number | null;
  metadata: { pubkey?: string; tlv_records?: { type: number; value: string }[] } & Record<string, unknown>;
}

interface KeysendParams {
  id?: string;
  amount: number;
  pubkey: string;
  preimage?: string;
  tlv_records?: { type: number; value: string }[];
}

// A payment the wallet makes (a keysend, or an invoice with its invoice text): what its transaction records.
interface Payment {
  amount: number; // msat
  paymentHash: string;
  preimage: string;
  invoice: string; // '' for a keysend
  metadata: NwcTransaction['metadata'];
}

type Result = { result: unknown } | { error: { code: Nip47ErrorCode; message: string } };
const failure = (code: Nip47ErrorCode, message: string): Result => ({ error: { code, message } });
const now = () => Math.floor(Date.now() / 1000);

export class NwcWalletService {
  readonly walletSecret: Uint8Array;
  readonly walletPubkey: string;
  settings: NwcSettings = { ...DEFAULT_NWC_SETTINGS };
  readonly transactions: NwcTransaction[] = [];
  readonly requests: { event: Event; method: string }[] = []; // every request received, for tests to inspect
  private readonly rules = new Map<string, NwcRule>();
  private readonly attempts = new Map<string, number>();
  private readonly seen = new Set<string>();
  private relay?: Relay;
  private stopped = false;

  constructor(
    private readonly relayUrl: string,
    private readonly clients: string[], // pubkeys allowed to spend (the connection secrets' public keys)
    walletSecret: Uint8Array = generateSecretKey(),
  ) {
    this.walletSecret = walletSecret;
    this.walletPubkey = getPublicKey(walletSecret);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.relay?.close();
  }

  setRule(pubkey: string, rule: NwcRule): void {
    this.rules.set(pubkey.toLowerCase(), rule);
  }

  clearRule(pubkey: string): void {
    this.rules.delete(pubkey.toLowerCase());
  }

  async configure(changes: Partial<NwcSettings>): Promise<void> {
    this.settings = { ...this.settings, ...changes };
    if (changes.methods || changes.encryptions) await this.publishInfo();
  }

  async reset(): Promise<void> {
    this.rules.clear();
    this.attempts.clear();
    this.transactions.length = 0;
    this.requests.length = 0;
    this.settings = { ...DEFAULT_NWC_SETTINGS };
    await this.publishInfo();
  }

  // (Re)connects to the relay, publishes the info event and listens for requests; retries while the relay is away.
  private async connect(): Promise<void> {
    while (!this.stopped) {
      try {
        const relay = await Relay.connect(this.relayUrl);
        this.relay = relay;
        relay.onclose = () => {
          if (!this.stopped) setTimeout(() => void this.connect(), 200).unref();
        };
        await this.publishInfo();
        relay.subscribe([{ kinds: [NWC_REQUEST_KIND], '#p': [this.walletPubkey], since: now() - 60 }], {
          onevent: (event) => void this.handle(event),
        });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200).unref());
      }
    }
  }

  private async publishInfo(): Promise<void> {
    const info = finalizeEvent(
      { kind: NWC_INFO_KIND, created_at: now(), content: this.settings.methods.join(' '), tags: [['encryption', this.settings.encryptions.join(' ')]] },
      this.walletSecret,
    );
    await this.relay?.publish(info).catch(() => undefined);
  }

  private async handle(event: Event): Promise<void> {
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    const expiration = Number(event.tags.find((t) => t[0] === 'expiration')?.[1]);
    if (Number.isFinite(expiration) && expiration < now()) return; // executed late would be worse than never
    const requested = event.tags.find((t) => t[0] === 'encryption')?.[1] === 'nip44_v2' || !event.content.includes('?iv=') ? 'nip44_v2' : 'nip04';
    const cipher = new Nip47Cipher(this.walletSecret, event.pubkey, requested);
    let request: { method: string; params: Record<string, unknown> };
    try {
      request = JSON.parse(cipher.decrypt(event.content));
    } catch {
      return this.respond(event, cipher, 'unknown', failure(Nip47Error.Other, 'cannot decrypt the request'));
    }
    const { method, params } = request;
    this.requests.push({ event, method });
    if (!this.clients.includes(event.pubkey)) return this.respond(event, cipher, method, failure(Nip47Error.Unauthorized, 'unknown connection'));
    if (!this.settings.methods.includes(method)) return this.respond(event, cipher, method, failure(Nip47Error.NotImplemented, `${method} is not supported`));
    switch (method) {
      case 'pay_keysend': {
        const result = await this.payKeysend(params as unknown as KeysendParams);
        if (result) this.respond(event, cipher, method, result);
        return;
      }
      case 'multi_pay_keysend': {
        const items = ((params as { keysends?: KeysendParams[] }).keysends ?? []) as KeysendParams[];
        await Promise.all(
          items.map(async (item) => {
            const result = await this.payKeysend(item);
            if (result) this.respond(event, cipher, method, result, item.id ?? item.pubkey);
          }),
        );
        return;
      }
      case 'pay_invoice': {
        const result = await this.payInvoice(params as { invoice?: string; metadata?: Record<string, unknown> });
        if (result) this.respond(event, cipher, method, result);
        return;
      }
      case 'lookup_invoice': {
        const found = this.transactions.find((t) => t.payment_hash === (params as { payment_hash?: string }).payment_hash);
        return this.respond(event, cipher, method, found ? { result: found } : failure(Nip47Error.NotFound, 'no such payment'));
      }
      case 'list_transactions': {
        const { from = 0, until = Infinity, limit = 50, offset = 0 } = params as { from?: number; until?: number; limit?: number; offset?: number };
        const list = this.transactions
          .filter((t) => t.created_at >= from && t.created_at <= until)
          .reverse()
          .slice(offset, offset + limit);
        return this.respond(event, cipher, method, { result: { transactions: list } });
      }
      case 'get_balance':
        return this.respond(event, cipher, method, { result: { balance: this.settings.balanceMsat } });
      case 'get_info':
        return this.respond(event, cipher, method, {
          result: { alias: 'splitstream nwc-sim', network: 'mainnet', pubkey: this.walletPubkey, methods: this.settings.methods },
        });
      default:
        return this.respond(event, cipher, method, failure(Nip47Error.NotImplemented, `${method} is not supported`));
    }
  }

  // The payment's answer, or undefined when the wallet is told to hang (the payment is made, never answered).
  private async payKeysend(params: KeysendParams): Promise<Result | undefined> {
    const pubkey = String(params.pubkey ?? '').toLowerCase();
    if (!Number.isSafeInteger(params.amount) || params.amount < 1_000 || !/^0[23][0-9a-f]{64}$/.test(pubkey)) {
      return failure(Nip47Error.Other, 'invalid keysend: amount (msat, at least 1000) and pubkey required');
    }
    const preimage = params.preimage ?? randomBytes(32).toString('hex');
    const paymentHash = paymentHashOf(preimage);
    if (this.paid(paymentHash)) return failure(Nip47Error.Other, 'a payment with this payment hash already exists');
    const payment = { amount: params.amount, paymentHash, preimage, invoice: '', metadata: { pubkey, tlv_records: params.tlv_records ?? [] } };
    const rule = this.rules.get(pubkey);
    if (rule?.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
    const attempt = (this.attempts.get(pubkey) ?? 0) + 1;
    this.attempts.set(pubkey, attempt);
    const failing =
      rule?.fail && rule.failFirst === undefined
        ? rule.fail
        : rule?.failFirst !== undefined && attempt <= rule.failFirst
          ? (rule.fail ?? { code: Nip47Error.PaymentFailed, message: 'no route' })
          : undefined;
    if (failing) {
      // A payment the node tried and gave up on is on record, as failed, as in Alby Hub.
      if (failing.code === Nip47Error.PaymentFailed) this.record('failed', payment, 0);
      return failure(failing.code, failing.message);
    }
    return this.settle(payment, rule);
  }

  // An invoice of the simulated network (its preimage derivable), paid once: a second payment of its hash is
  // refused, as a node refuses it.
  private async payInvoice(params: { invoice?: string; metadata?: Record<string, unknown> }): Promise<Result | undefined> {
    let decoded: bolt11.PaymentRequestObject;
    try {
      decoded = bolt11.decode(String(params.invoice ?? ''));
    } catch {
      return failure(Nip47Error.Other, 'invalid invoice');
    }
    const preimage = simulatedPreimage(String(params.invoice));
    const amount = Number(decoded.millisatoshis ?? 0);
    const pubkey = decoded.payeeNodeKey ?? '';
    if (!preimage || amount <= 0) return failure(Nip47Error.Other, 'cannot pay this invoice: not from the simulated network, or no amount');
    const paymentHash = paymentHashOf(preimage);
    if (this.paid(paymentHash)) return failure(Nip47Error.Other, 'invoice already paid');
    return this.settle({ amount, paymentHash, preimage, invoice: String(params.invoice), metadata: { pubkey, ...params.metadata } }, this.rules.get(pubkey));
  }

  private paid(paymentHash: string): boolean {
    return this.transactions.some((t) => t.payment_hash === paymentHash && t.state === 'settled');
  }

  // Pays: Alby Hub reserves a routing fee of max(1%, 10 sats) first; the fee charged is feePpm of the amount. The
  // answer, or undefined when the rule says hang (paid, never answered).
  private settle(payment: Payment, rule: NwcRule | undefined): Result | undefined {
    const reserve = Math.max(Math.ceil(payment.amount / 100), 10_000);
    if (payment.amount + reserve > this.settings.balanceMsat) return failure(Nip47Error.InsufficientBalance, 'not enough balance, including the fee reserve');
    const fees = Math.ceil((payment.amount * this.settings.feePpm) / 1_000_000);
    this.settings.balanceMsat -= payment.amount + fees;
    this.record('settled', payment, fees);
    return rule?.hang ? undefined : { result: { preimage: payment.preimage, fees_paid: fees } };
  }

  private record(state: NwcTransaction['state'], payment: Payment, fees: number): void {
    const existing = this.transactions.findIndex((t) => t.payment_hash === payment.paymentHash);
    if (existing >= 0) this.transactions.splice(existing, 1); // a failed attempt, tried again
    this.transactions.push({
      type: 'outgoing',
      state,
      amount: payment.amount,
      fees_paid: fees,
      payment_hash: payment.paymentHash,
      preimage: state === 'settled' ? payment.preimage : '',
      invoice: payment.invoice,
      description: '',
      created_at: now(),
      settled_at: state === 'settled' ? now() : null,
      metadata: payment.metadata,
    });
  }

  private respond(request: Event, cipher: Nip47Cipher, method: string, result: Result, d?: string): void {
    const content = cipher.encrypt(JSON.stringify({ result_type: method, ...result }));
    const tags = [['p', request.pubkey], ['e', request.id], ...(d ? [['d', d]] : [])];
    if (cipher.encryption === 'nip44_v2') tags.push(['encryption', 'nip44_v2']);
    const response = finalizeEvent({ kind: NWC_RESPONSE_KIND, created_at: now(), content, tags }, this.walletSecret);
    void this.relay?.publish(response).catch(() => undefined);
  }
}
