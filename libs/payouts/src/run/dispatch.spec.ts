import type { KeysendRequest, PaymentOutcome, Wallet } from '@splitstream/wallet';
import { dispatchChunk, sendingChunks, verdictFor } from './dispatch.js';

const refused = (refusal: 'contents' | 'wallet' | 'rate_limit', message = 'refused'): PaymentOutcome => ({
  status: 'not_paid',
  code: refusal === 'rate_limit' ? 1 : 2,
  message,
  scope: 'request',
  refusal,
  ...(refusal === 'rate_limit' && { retryAfter: new Date(Date.now() + 10) }),
});
const paid = (destination: string): PaymentOutcome => ({
  status: 'paid',
  amountSats: 1,
  feeSats: 0,
  paymentHash: 'h',
  preimage: 'p',
  destination,
  customRecords: {},
});

// A wallet that refuses any request containing a bad destination, as LNDhub validates a multi request whole.
class ValidatingWallet implements Wallet {
  readonly requests: string[][] = [];
  constructor(
    private readonly bad: Set<string>,
    private readonly first: PaymentOutcome[] = [],
  ) {}
  async payKeysends(requests: KeysendRequest[]): Promise<PaymentOutcome[]> {
    this.requests.push(requests.map((r) => r.destination));
    const scripted = this.first.shift();
    if (scripted) return requests.map(() => scripted);
    if (requests.some((r) => this.bad.has(r.destination))) return requests.map(() => refused('contents', 'invalid destination pubkey'));
    return requests.map((r) => paid(r.destination));
  }
  readonly choosesPreimage = false;
  async status() {
    return { reachable: true, authorized: true };
  }
  async payInvoices(): Promise<PaymentOutcome[]> {
    throw new Error('not used');
  }
  async findPayments() {
    return new Map();
  }
}

const payKeysends = (wallet: Wallet) => (requests: KeysendRequest[]) => wallet.payKeysends(requests);

const keysends = (...destinations: string[]): KeysendRequest[] => destinations.map((destination) => ({ amountSats: 1, destination }));
const options = { maxRateLimitWaits: 2, maxWaitMs: 50 };

describe('verdictFor (pure)', () => {
  it('splits a group refused for its contents, blames a single keysend, waits on a rate limit, stops on the wallet', () => {
    expect(verdictFor(4, [refused('contents')]).kind).toBe('split');
    expect(verdictFor(1, [refused('contents')]).kind).toBe('blame');
    expect(verdictFor(3, [refused('rate_limit')]).kind).toBe('wait');
    expect(verdictFor(3, [refused('wallet')]).kind).toBe('stop');
    expect(verdictFor(2, [paid('a'), { status: 'unknown', reason: 'x' }]).kind).toBe('answered');
  });
});

describe('dispatchChunk', () => {
  it('isolates the refused keysend by halving, and pays every other one', async () => {
    const wallet = new ValidatingWallet(new Set(['c']));
    const result = await dispatchChunk(payKeysends(wallet), keysends('a', 'b', 'c', 'd', 'e'), options);
    expect(result.stop).toBeUndefined();
    expect(result.outcomes.map((o) => o.status)).toEqual(['paid', 'paid', 'not_paid', 'paid', 'paid']);
    expect(result.outcomes[2]).toMatchObject({ scope: 'item', code: 2, message: 'invalid destination pubkey' });
    expect(wallet.requests).toEqual([['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'c'], ['a', 'b'], ['c'], ['d', 'e']]);
  });

  it('waits out a rate limit and sends the same group again', async () => {
    const wallet = new ValidatingWallet(new Set(), [refused('rate_limit')]);
    const result = await dispatchChunk(payKeysends(wallet), keysends('a', 'b'), options);
    expect(result.outcomes.map((o) => o.status)).toEqual(['paid', 'paid']);
    expect(wallet.requests).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('stops on a wallet-side refusal: nothing else is sent, every keysend gets the refusal', async () => {
    const wallet = new ValidatingWallet(new Set(['b']), [refused('contents'), refused('wallet', 'bad auth')]);
    const result = await dispatchChunk(payKeysends(wallet), keysends('a', 'b', 'c', 'd'), options);
    expect(result.stop).toMatchObject({ message: 'bad auth', refusal: 'wallet' });
    expect(result.outcomes.every((o) => o.status === 'not_paid' && o.scope === 'request')).toBe(true);
    expect(wallet.requests).toHaveLength(2);
  });
});

describe('sendingChunks', () => {
  it('sends keysends first, then invoice payments, in id order, in chunks of at most the size and of one method each', () => {
    const payments = [
      { id: 5n, method: 'invoice' },
      { id: 3n, method: 'keysend' },
      { id: 1n, method: 'keysend' },
      { id: 4n, method: 'invoice' },
      { id: 2n, method: 'keysend' },
      { id: 6n, method: 'invoice' },
    ];
    expect(sendingChunks(payments, 2)).toEqual([
      { method: 'keysend', ids: [1n, 2n] },
      { method: 'keysend', ids: [3n] },
      { method: 'invoice', ids: [4n, 5n] },
      { method: 'invoice', ids: [6n] },
    ]);
    expect(sendingChunks([], 2)).toEqual([]);
  });
});
