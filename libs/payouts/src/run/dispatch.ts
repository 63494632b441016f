import { PaymentMethod } from '@splitstream/ledger';
import { satsForWallet, TLV_PODCAST_METADATA } from '@splitstream/money';
import {
  type InvoicePaymentRequest,
  type KeysendRequest,
  memoFor,
  type NotPaidOutcome,
  type PaymentOutcome,
  type PayOptions,
  settleable,
  type Wallet,
} from '@splitstream/wallet';

// Phase 2 of a payout run: one chunk of payments (keysends, or invoices) through the wallet, so that no recipient
// blocks another.
// A wallet that refuses a whole request for something in it (LNDhub validates a multi request as a whole) gets
// the chunk again in halves, down to single keysends: the one it still refuses is that recipient's failure, and
// everyone else in the chunk is paid in the same run. Every re-send here is of a request the wallet refused
// before paying anything, so nothing can be paid twice.

// A recorded payment as the wallet is asked to pay it (the first time, or again with the same preimage or
// invoice).
export interface StoredPayment {
  method: string; // PaymentMethod
  amount_sats: bigint;
  destination: string; // the node a keysend pays
  reference: string;
  custom_records: Record<string, string>;
  preimage: string | null;
  invoice: string | null; // an invoice payment's invoice, stored before it is paid
  payment_hash: string | null;
}

export const keysendRequest = (k: StoredPayment): KeysendRequest => ({
  amountSats: satsForWallet(k.amount_sats),
  destination: k.destination,
  memo: memoFor(k.reference),
  customRecords: k.custom_records,
  ...(k.preimage && { preimage: k.preimage }),
});

export function invoiceRequest(k: StoredPayment): InvoicePaymentRequest {
  const record = k.custom_records[TLV_PODCAST_METADATA];
  return {
    invoice: k.invoice!,
    amountSats: satsForWallet(k.amount_sats),
    paymentHash: k.payment_hash!,
    ...(record && { metadata: { blip10: JSON.parse(record) as Record<string, unknown> } }),
  };
}

// A run's payments as they are sent: keysends first, then invoice payments, in chunks of at most `size` of one
// method each (keysends never wait behind invoices fetched from addresses' domains), in id order. Computed once from
// the plan's rows: the run owns its payments, and a chunk's claim moves only those still pending.
export interface PaymentChunk {
  method: PaymentMethod;
  ids: bigint[];
}

export function sendingChunks(payments: { id: bigint; method: string }[], size: number): PaymentChunk[] {
  const chunks: PaymentChunk[] = [];
  for (const method of [PaymentMethod.Keysend, PaymentMethod.Invoice]) {
    const ids = payments
      .filter((p) => p.method === method)
      .map((p) => p.id)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (let i = 0; i < ids.length; i += size) chunks.push({ method, ids: ids.slice(i, i + size) });
  }
  return chunks;
}

// What to do with a group of keysends after the wallet answered it.
export type GroupVerdict =
  | { kind: 'answered' } // each keysend has its own outcome
  | { kind: 'split' } // refused for its contents: send each half on its own
  | { kind: 'blame' } // a single keysend refused for its contents: that recipient's failure
  | { kind: 'wait'; until: Date } // rate limited, nothing sent: the same group again later
  | { kind: 'stop'; outcome: NotPaidOutcome }; // the wallet refused (auth, balance, unreachable): stop the run

const isRequestRefusal = (o: PaymentOutcome | undefined): o is NotPaidOutcome => o?.status === 'not_paid' && o.scope === 'request';

// A whole-request refusal has every outcome refused alike; a wallet answering per item (NWC) is `answered`,
// and its items refused by the wallet itself are handled one by one (see dispatchChunk).
export function verdictFor(size: number, outcomes: PaymentOutcome[]): GroupVerdict {
  const first = outcomes[0];
  if (!isRequestRefusal(first) || !outcomes.every(isRequestRefusal)) return { kind: 'answered' };
  switch (first.refusal) {
    case 'contents':
      return size > 1 ? { kind: 'split' } : { kind: 'blame' };
    case 'rate_limit':
      return { kind: 'wait', until: first.retryAfter ?? new Date(Date.now() + 1_000) };
    default:
      return { kind: 'stop', outcome: first };
  }
}

export interface DispatchResult {
  outcomes: PaymentOutcome[]; // one per keysend of the chunk, in order
  stop?: NotPaidOutcome; // the wallet refused the run: nothing after this chunk is sent
}

export interface DispatchOptions {
  signal?: AbortSignal;
  maxRateLimitWaits: number;
  maxWaitMs: number;
}

const sleep = (ms: number, signal?: AbortSignal) => settleable(ms, signal).done;

// Sends one group of payments (Wallet.payKeysends or Wallet.payInvoices): one outcome per payment, in order.
export type Pay<R> = (requests: R[], options: PayOptions) => Promise<PaymentOutcome[]>;

export async function dispatchChunk<R>(pay: Pay<R>, requests: R[], options: DispatchOptions): Promise<DispatchResult> {
  const outcomes: PaymentOutcome[] = new Array(requests.length);
  const queue: number[][] = [requests.map((_, i) => i)];
  let waits = 0;
  let stop: NotPaidOutcome | undefined;
  while (queue.length > 0) {
    const group = queue.shift()!;
    if (stop) {
      for (const i of group) outcomes[i] = stop;
      continue;
    }
    const answers = await pay(
      group.map((i) => requests[i]!),
      { signal: options.signal },
    );
    const verdict = verdictFor(group.length, answers);
    switch (verdict.kind) {
      case 'answered': {
        // Per-item answers: a rate-limited item is sent again, a wallet-side refusal stops the run.
        const again: number[] = [];
        group.forEach((i, k) => {
          const outcome = answers[k] ?? { status: 'unknown', reason: 'the wallet gave no outcome for this keysend' };
          if (isRequestRefusal(outcome) && outcome.refusal === 'rate_limit' && waits < options.maxRateLimitWaits) again.push(i);
          else if (isRequestRefusal(outcome) && outcome.refusal === 'contents') outcomes[i] = { ...outcome, scope: 'item' };
          else {
            if (isRequestRefusal(outcome)) stop ??= outcome;
            outcomes[i] = outcome;
          }
        });
        if (again.length > 0) {
          waits++;
          await sleep(Math.min(options.maxWaitMs, 1_000), options.signal);
          queue.unshift(again);
        }
        break;
      }
      case 'split': {
        const half = Math.ceil(group.length / 2);
        queue.unshift(group.slice(0, half), group.slice(half));
        break;
      }
      case 'blame':
        outcomes[group[0]!] = { ...(answers[0] as NotPaidOutcome), scope: 'item' };
        break;
      case 'wait':
        if (++waits > options.maxRateLimitWaits || options.signal?.aborted) {
          stop = { ...(answers[0] as NotPaidOutcome), refusal: 'wallet', message: `still rate limited after ${waits - 1} waits` };
          queue.unshift(group);
        } else {
          await sleep(Math.min(options.maxWaitMs, Math.max(0, verdict.until.getTime() - Date.now())), options.signal);
          queue.unshift(group);
        }
        break;
      case 'stop':
        stop = verdict.outcome;
        queue.unshift(group);
        break;
    }
  }
  return { outcomes, ...(stop && { stop }) };
}

// A chunk of recorded payments: its keysends through Wallet.payKeysends, then its invoices through
// Wallet.payInvoices; outcomes in the chunk's order. A wallet that refuses the run stops both.
export async function dispatchPayments(wallet: Wallet, stored: StoredPayment[], options: DispatchOptions): Promise<DispatchResult> {
  const outcomes: PaymentOutcome[] = new Array(stored.length);
  const indices = (method: PaymentMethod) => stored.flatMap((k, i) => (k.method === method ? [i] : []));
  const keysends = indices(PaymentMethod.Keysend);
  const invoices = indices(PaymentMethod.Invoice);
  const parts = [
    {
      indices: keysends,
      send: () =>
        dispatchChunk(
          (r, o) => wallet.payKeysends(r, o),
          keysends.map((i) => keysendRequest(stored[i]!)),
          options,
        ),
    },
    {
      indices: invoices,
      send: () =>
        dispatchChunk(
          (r, o) => wallet.payInvoices(r, o),
          invoices.map((i) => invoiceRequest(stored[i]!)),
          options,
        ),
    },
  ];
  let stop: NotPaidOutcome | undefined;
  for (const part of parts) {
    if (part.indices.length === 0) continue;
    const result: DispatchResult = stop ? { outcomes: part.indices.map(() => stop!) } : await part.send();
    part.indices.forEach((i, k) => (outcomes[i] = result.outcomes[k]!));
    stop ??= result.stop;
  }
  return { outcomes, ...(stop && { stop }) };
}
