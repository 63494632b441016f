import { feeSatsFromMsat, msatForWallet, paymentHashOf } from '@splitstream/money';
import { invoiceOutcome } from '../invoice-outcome.js';
import {
  InvalidPaymentRequestError,
  type InvoicePaymentRequest,
  type KeysendRequest,
  type NotPaidOutcome,
  type PaymentLookup,
  type PaymentOutcome,
  type PayOptions,
  type RequestRefusal,
  type SentPayment,
  type UnknownOutcome,
  type Wallet,
  type WalletStatus,
} from '../wallet.types.js';
import { Nip47Error, utf8ToHex } from './nip47.js';
import { type Nip47Reply, NotSentError, type NwcClient } from './nwc-client.js';

// NIP-47 error codes -> outcomes. Certainly not paid: the recipient's failure (PAYMENT_FAILED), or the wallet's
// own refusal, which stops the run and blames no recipient (balance, budget, permissions, auth, rate limit).
// INTERNAL, OTHER (also "this hash was already paid"), a timeout or a lost relay: the payment may have happened.
const REFUSAL: Partial<Record<string, RequestRefusal | 'item'>> = {
  [Nip47Error.PaymentFailed]: 'item',
  [Nip47Error.InsufficientBalance]: 'wallet',
  [Nip47Error.QuotaExceeded]: 'wallet',
  [Nip47Error.Restricted]: 'wallet',
  [Nip47Error.Unauthorized]: 'wallet',
  [Nip47Error.NotImplemented]: 'wallet',
  [Nip47Error.RateLimited]: 'rate_limit',
};

const unknown = (reason: string): UnknownOutcome => ({ status: 'unknown', reason });

// What a payment's answer must match: its amount, and its preimage where splitstream chose it.
type Expected = Pick<KeysendRequest, 'amountSats' | 'destination' | 'customRecords' | 'preimage'>;

function outcomeOf(reply: Nip47Reply | undefined, request: Expected): PaymentOutcome {
  if (!reply) return unknown('no answer from the wallet before the timeout: the payment may have gone out');
  if (reply.error) {
    const { code, message } = reply.error;
    const refusal = REFUSAL[code];
    if (!refusal) return unknown(`${code}: ${message}`);
    const notPaid: NotPaidOutcome = { status: 'not_paid', code, message, scope: refusal === 'item' ? 'item' : 'request' };
    return refusal === 'item' ? notPaid : { ...notPaid, refusal };
  }
  const preimage = String(reply.result?.preimage ?? '');
  if (!/^[0-9a-f]{64}$/i.test(preimage) || (request.preimage && preimage.toLowerCase() !== request.preimage)) {
    return unknown("the wallet answered with a preimage that is not this payment's");
  }
  return {
    status: 'paid',
    amountSats: request.amountSats,
    feeSats: feeSatsFromMsat(Number(reply.result?.fees_paid ?? 0)),
    paymentHash: paymentHashOf(preimage),
    preimage: preimage.toLowerCase(),
    destination: request.destination,
    customRecords: request.customRecords ?? {},
  };
}

const notSent = (error: NotSentError): NotPaidOutcome => ({ status: 'not_paid', code: null, message: error.message, scope: 'request', refusal: 'wallet' });

// One keysend as NIP-47 takes it: msat, our preimage, TLV values as hex of their UTF-8.
function keysendParams(request: KeysendRequest): Record<string, unknown> {
  if (!request.preimage || !/^[0-9a-f]{64}$/.test(request.preimage)) {
    throw new InvalidPaymentRequestError('an NWC keysend needs the preimage chosen before sending (64 lowercase hex)');
  }
  const tlvRecords = Object.entries(request.customRecords ?? {}).map(([type, value]) => {
    if (!Number.isSafeInteger(Number(type))) throw new InvalidPaymentRequestError(`TLV type ${type} is too large for NIP-47's JSON numbers`);
    return { type: Number(type), value: utf8ToHex(value) };
  });
  return { amount: msatForWallet(request.amountSats), pubkey: request.destination, preimage: request.preimage, tlv_records: tlvRecords };
}

// The pipeline's Wallet over Nostr Wallet Connect (Alby Hub, any NIP-47 wallet). splitstream chooses every
// preimage, so each payment hash is known before sending and can always be looked up; a keysend re-sent with the
// same preimage cannot be paid twice by a Lightning node. Uses multi_pay_keysend when the wallet lists it (each
// answer matched by its `d` tag), otherwise concurrent pay_keysend requests within a rate.
export class NwcWallet implements Wallet {
  readonly choosesPreimage = true;
  private nextSlot = 0;
  private listed?: string[];

  constructor(
    private readonly client: NwcClient,
    private readonly maxPaymentsPerSecond: number,
  ) {}

  // get_info answers for a live, authorized connection (UNAUTHORIZED/RESTRICTED: the connection is refused);
  // get_balance then gives the balance.
  async status(): Promise<WalletStatus> {
    try {
      const [info] = await this.client.request('get_info', {});
      if (!info) return { reachable: false, authorized: true, message: 'no answer to get_info' };
      if (info.error) {
        const refused = info.error.code === Nip47Error.Unauthorized || info.error.code === Nip47Error.Restricted;
        return { reachable: true, authorized: !refused, message: `${info.error.code}: ${info.error.message}` };
      }
      const [balance] = await this.client.request('get_balance', {});
      return { reachable: true, authorized: true, ...(balance?.result && { balanceMsat: Number(balance.result.balance ?? 0) }) };
    } catch (error) {
      return { reachable: false, authorized: true, message: (error as Error).message };
    }
  }

  // The methods get_info lists (read once), or those of the info event if get_info is not permitted.
  private async methods(): Promise<string[]> {
    if (!this.listed) {
      const [info] = await this.client.request('get_info', {});
      const methods = info?.result?.methods;
      this.listed = Array.isArray(methods) ? methods.map(String) : (await this.client.walletInfo()).methods;
    }
    return this.listed;
  }

  async payKeysends(requests: KeysendRequest[], options: PayOptions = {}): Promise<PaymentOutcome[]> {
    if (requests.length === 0) return [];
    const params = requests.map(keysendParams);
    try {
      if (requests.length > 1 && (await this.methods()).includes('multi_pay_keysend')) {
        const ids = requests.map((_, i) => `k${i}`);
        const replies = await this.client.request(
          'multi_pay_keysend',
          { keysends: params.map((p, i) => ({ ...p, id: ids[i] })) },
          requests.length,
          options.signal,
        );
        return requests.map((request, i) =>
          outcomeOf(
            replies.find((r) => r.d === ids[i]),
            request,
          ),
        );
      }
      return await Promise.all(
        requests.map(async (request, i) => outcomeOf((await this.paced(() => this.client.request('pay_keysend', params[i]!, 1, options.signal)))[0], request)),
      );
    } catch (error) {
      if (error instanceof NotSentError) return requests.map(() => notSent(error));
      throw error;
    }
  }

  // pay_invoice, one request per invoice within the rate, with the bLIP-10 record as the payment's metadata
  // (Alby Hub stores it with the transaction).
  async payInvoices(requests: InvoicePaymentRequest[], options: PayOptions = {}): Promise<PaymentOutcome[]> {
    try {
      return await Promise.all(
        requests.map(async (request) => {
          const params = { invoice: request.invoice, ...(request.metadata && { metadata: request.metadata }) };
          const [reply] = await this.paced(() => this.client.request('pay_invoice', params, 1, options.signal));
          return invoiceOutcome(request, outcomeOf(reply, { amountSats: request.amountSats, destination: '' }));
        }),
      );
    } catch (error) {
      if (error instanceof NotSentError) return requests.map(() => notSent(error));
      throw error;
    }
  }

  // lookup_invoice by payment hash: settled (with preimage and fees), failed, pending, or absent (NOT_FOUND).
  async findPayments(payments: SentPayment[]): Promise<Map<string, PaymentLookup>> {
    const found = new Map<string, PaymentLookup>();
    for (const { reference, paymentHash } of payments) {
      if (!paymentHash) continue;
      const [reply] = await this.paced(() => this.client.request('lookup_invoice', { payment_hash: paymentHash }));
      if (!reply) throw new Error('the wallet did not answer lookup_invoice');
      if (reply.error) {
        if (reply.error.code === Nip47Error.NotFound) continue;
        throw new Error(`lookup_invoice: ${reply.error.code}: ${reply.error.message}`);
      }
      const tx = reply.result ?? {};
      if (tx.state === 'failed') found.set(reference, { state: 'failed' });
      else if (tx.state === 'pending') found.set(reference, { state: 'pending' });
      else if (tx.state === 'settled' && typeof tx.preimage === 'string' && paymentHashOf(tx.preimage) === paymentHash) {
        found.set(reference, {
          state: 'settled',
          record: {
            amountSats: Math.floor(Number(tx.amount ?? 0) / 1000),
            feeSats: feeSatsFromMsat(Number(tx.fees_paid ?? 0)),
            paymentHash,
            preimage: tx.preimage,
          },
        });
      }
    }
    return found;
  }

  // Spaces requests to stay within the wallet's rate (Alby Hub rate-limits a connection).
  private async paced<T>(send: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + Math.ceil(1000 / this.maxPaymentsPerSecond);
    if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
    return send();
  }
}
