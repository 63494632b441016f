import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@splitstream/config';
import { PaymentMethod, PaymentStatus, PayoutStatus } from '@splitstream/ledger';
import type { MetricsService } from '@splitstream/observability';
import { canMove, type PaymentDraft, type PaymentMoves, type PaymentRow, type Payments } from '@splitstream/payments';
import type { InvoicePaymentRequest, KeysendRequest, PaymentOutcome, Wallet } from '@splitstream/wallet';
import type { PayoutStore } from '../store/payout-store.js';
import type { RecipientStore, RecipientUpdate } from '../store/recipient-store.js';
import type { Locks } from '../store/session-lock.js';
import type { InvoiceRefusal, LightningAddresses } from './lightning-addresses.js';
import { PayoutRunner } from './payout-runner.service.js';
import type { DueBalance } from './plan.js';
import type { PaymentChunk } from './dispatch.js';
import type { BoostPlanner } from '../boosts/boost-planner.js';

// The payout runner as a sequence of store, payments and wallet calls, against in-memory fakes that keep the
// payments' transition rules (canMove): what it sends, in which order, and what it writes of its run.

interface FakePayment extends PaymentRow {
  status: PaymentStatus;
}

class World {
  readonly payments = new Map<bigint, FakePayment>();
  readonly runs = new Map<bigint, PayoutStatus>();
  readonly recipientUpdates: RecipientUpdate[] = [];
  readonly sentInvoices: InvoicePaymentRequest[] = [];
  readonly sentKeysends: KeysendRequest[] = [];
  due: DueBalance[] = [];
  refuseInvoicesOf = new Set<bigint>(); // recipients whose address issues bad invoices
  unansweredInvoicesOf = new Set<bigint>(); // recipients whose address's domain does not answer
  walletRefusesRun = false;
  lockFree = true;
  boostRounds: number[][] = []; // each round of due boosts: the amounts (sats) of its payments
  streamRunQueued = false; // a scheduled or manual run is queued or running
  otherStreamRun = false; // another scheduled or manual run holds the lock
  readonly notes = new Map<bigint, string | null>(); // each run's final note, as apps read it
  readonly cancelReasons: string[] = [];
  private nextId = 1n;

  private move(to: PaymentStatus, ids: bigint[], from: PaymentStatus[], extra: (p: FakePayment) => boolean = () => true): PaymentRow[] {
    for (const source of from) if (!canMove(source, to)) throw new Error(`${source} -> ${to}`);
    const moved: PaymentRow[] = [];
    for (const id of ids) {
      const p = this.payments.get(id);
      if (p && from.includes(p.status) && extra(p)) {
        p.status = to;
        moved.push(p);
      }
    }
    return moved;
  }

  readonly moves = {
    tx: {},
    create: async (payoutId: bigint, drafts: PaymentDraft[]) =>
      drafts.map((d) => {
        const row: FakePayment = {
          id: this.nextId++,
          payout_id: payoutId,
          balance_id: d.balanceId,
          recipient_id: d.recipientId,
          app_id: 'app',
          amount_sats: d.amountSats,
          method: d.method,
          destination: d.destination,
          reference: d.reference,
          custom_records: d.customRecords,
          preimage: d.preimage ?? null,
          invoice: null,
          invoice_expires_at: null,
          payment_hash: d.paymentHash ?? null,
          sent_at: null,
          created_at: new Date(),
          status: PaymentStatus.Pending,
        };
        this.payments.set(row.id, row);
        return row;
      }),
    claim: async (ids: bigint[]) =>
      this.move(PaymentStatus.Sending, ids, [PaymentStatus.Pending], (p) => p.method === PaymentMethod.Keysend || p.invoice !== null),
    attachInvoice: async (id: bigint, invoice: { invoice: string; paymentHash: string }) => {
      const p = this.payments.get(id)!;
      if (p.status !== PaymentStatus.Pending || p.invoice !== null) return false;
      p.invoice = invoice.invoice;
      p.payment_hash = invoice.paymentHash;
      return true;
    },
    succeed: async (items: { id: bigint }[]) =>
      this.move(
        PaymentStatus.Succeeded,
        items.map((i) => i.id),
        [PaymentStatus.Sending],
      ),
    fail: async (items: { id: bigint }[]) =>
      this.move(
        PaymentStatus.Failed,
        items.map((i) => i.id),
        [PaymentStatus.Sending],
      ),
    cancel: async (items: { id: bigint; reason?: { message: string } }[]) => (
      this.cancelReasons.push(...items.flatMap((i) => i.reason?.message ?? [])),
      this.move(
        PaymentStatus.Cancelled,
        items.map((i) => i.id),
        [PaymentStatus.Pending, PaymentStatus.Sending],
      )
    ),
    markUnknown: async (items: { id: bigint }[]) =>
      this.move(
        PaymentStatus.Unknown,
        items.map((i) => i.id),
        [PaymentStatus.Sending],
      ),
  };

  private ofStatus(status: PaymentStatus, payoutId?: bigint): bigint[] {
    return [...this.payments.values()].filter((p) => p.status === status && (payoutId === undefined || p.payout_id === payoutId)).map((p) => p.id);
  }

  readonly store = {
    dueBalances: async () => this.due.splice(0),
    transferRemainders: async () => undefined,
    inStatus: async (_tx: unknown, status: PaymentStatus, payoutId?: bigint) => this.ofStatus(status, payoutId),
    counts: async (payoutId: bigint) => {
      const of = (s: PaymentStatus) => [...this.payments.values()].filter((p) => p.payout_id === payoutId && p.status === s).length;
      return {
        keysends: [...this.payments.values()].filter((p) => p.payout_id === payoutId).length,
        succeeded: of(PaymentStatus.Succeeded),
        failed: of(PaymentStatus.Failed),
        unknown: of(PaymentStatus.Unknown),
        cancelled: of(PaymentStatus.Cancelled),
      };
    },
    start: async (id: bigint) => this.runMove(id, PayoutStatus.Queued, PayoutStatus.Running),
    skip: async (id: bigint) => this.runMove(id, PayoutStatus.Queued, PayoutStatus.Skipped),
    finish: async (id: bigint, status: PayoutStatus, note: string | null) => {
      this.notes.set(id, note);
      return this.runMove(id, PayoutStatus.Running, status);
    },
    interruptRunning: async () => {
      const running = [...this.runs].filter(([, status]) => status === PayoutStatus.Running);
      for (const [id] of running) this.runs.set(id, PayoutStatus.Interrupted);
      return running.length;
    },
    beat: async () => undefined,
    staleRuns: async () => [],
    streamRunActive: async () => this.streamRunQueued,
    otherStreamRunRunning: async () => this.otherStreamRun,
    stillWaiting: async (id: bigint) => this.runs.get(id) === PayoutStatus.Queued,
    stillRunning: async (id: bigint) => this.runs.get(id) === PayoutStatus.Running,
    createBoostRun: async () => {
      const id = 100n + BigInt(this.runs.size);
      this.runs.set(id, PayoutStatus.Running);
      return id;
    },
  };

  readonly boosts = {
    prepare: async (payoutId: bigint): Promise<PaymentChunk[]> => {
      const round = this.boostRounds.shift() ?? [];
      if (round.length === 0) return [];
      const created = await this.moves.create(
        payoutId,
        round.map((sats, i) => ({
          balanceId: 1_000n + BigInt(i),
          recipientId: 1_000n + BigInt(i),
          reference: `boost-${this.nextId}-${i}`,
          method: PaymentMethod.Keysend,
          destination: 'd',
          amountSats: BigInt(sats),
          attempt: 1,
          customRecords: {},
        })),
      );
      return created.map((p) => ({ method: PaymentMethod.Keysend, ids: [p.id] }));
    },
  };

  private runMove(id: bigint, from: PayoutStatus, to: PayoutStatus): boolean {
    if (this.runs.get(id) !== from) return false;
    this.runs.set(id, to);
    return true;
  }

  readonly addresses = {
    requestResolution: async () => undefined,
    fingerprint: 'fingerprint',
    obtainInvoices: async (ids: bigint[]): Promise<InvoiceRefusal[]> => {
      const refusals: InvoiceRefusal[] = [];
      for (const id of ids) {
        const p = this.payments.get(id)!;
        if (p.method !== PaymentMethod.Invoice || p.status !== PaymentStatus.Pending || p.invoice) continue;
        if (this.refuseInvoicesOf.has(p.recipient_id))
          refusals.push({ paymentId: id, reason: { code: 'invoice_refused', message: 'bad invoice' }, recipients: true });
        else if (this.unansweredInvoicesOf.has(p.recipient_id))
          refusals.push({ paymentId: id, reason: { code: 'lnaddress_unreachable', message: 'no answer' }, recipients: false });
        else await this.moves.attachInvoice(id, { invoice: `lnbc-${id}`, paymentHash: String(id).padStart(64, '0') });
      }
      return refusals;
    },
  };

  readonly wallet: Wallet = {
    choosesPreimage: false,
    status: async () => ({ reachable: true, authorized: true }),
    findPayments: async () => new Map(),
    payKeysends: async (requests) => {
      this.sentKeysends.push(...requests);
      return requests.map((r) => this.outcome(r.amountSats));
    },
    payInvoices: async (requests) => {
      this.sentInvoices.push(...requests);
      return requests.map((r) => this.outcome(r.amountSats));
    },
  };

  private outcome(amountSats: number): PaymentOutcome {
    if (this.walletRefusesRun) return { status: 'not_paid', code: 1, message: 'not enough balance', scope: 'request', refusal: 'wallet' };
    return { status: 'paid', amountSats, feeSats: 0, paymentHash: 'h', preimage: 'p', destination: '', customRecords: {} };
  }

  runner(batchSize: number): PayoutRunner {
    const payments = { transaction: async <T>(work: (moves: PaymentMoves) => Promise<T>) => work(this.moves as unknown as PaymentMoves) };
    const recipients = {
      standings: async () => new Map(),
      apply: async (_tx: unknown, updates: RecipientUpdate[]) => void this.recipientUpdates.push(...updates),
    };
    const locks = { tryAcquire: async () => (this.lockFree ? { release: async () => undefined } : undefined), takeOver: async () => 0 };
    const metrics = { payoutRunSeconds: { startTimer: () => () => undefined }, payoutRuns: { inc: () => undefined } };
    const config = {
      WALLET_BACKEND: 'alby-sim',
      KEYSEND_BATCH_SIZE: batchSize,
      MIN_PAYOUT_SATS: 1,
      RETRY_BASE_SECONDS: 60,
      RETRY_MAX_SECONDS: 600,
      MAX_ATTEMPTS: 5,
      PAYOUT_HEARTBEAT_TIMEOUT_SECONDS: 60,
      MAX_PAYMENT_SATS: 1_000_000,
    };
    return new PayoutRunner(
      this.wallet,
      config as AppConfig,
      metrics as unknown as MetricsService,
      this.store as unknown as PayoutStore,
      recipients as unknown as RecipientStore,
      payments as unknown as Payments,
      this.addresses as unknown as LightningAddresses,
      locks as unknown as Locks,
      this.boosts as unknown as BoostPlanner,
    );
  }
}

const due = (recipientId: number, invoice: boolean): DueBalance => ({
  balanceId: BigInt(recipientId),
  recipientId: BigInt(recipientId),
  appId: 'app',
  owedMsat: 10_000n,
  coveredMsat: 10_000n,
  feedGuid: 'feed',
  itemGuid: 'item',
  remoteFeedGuid: '',
  remoteItemGuid: '',
  address: invoice ? `user${recipientId}@pods.example` : `02${recipientId.toString(16).padStart(64, '0')}`,
  customKey: '',
  customValue: '',
  consecutiveFailures: 0,
  route: invoice ? 'lnurlp' : null,
  resolvedPubkey: null,
  resolvedRecords: null,
  minSendableMsat: invoice ? 1_000n : null,
  maxSendableMsat: invoice ? 1_000_000_000n : null,
  commentAllowed: invoice ? 255 : null,
  name: `R${recipientId}`,
  appName: 'App',
  appVersion: '',
  senderName: '',
  position: 0,
  feedTitle: 'Show',
  itemTitle: 'Episode',
  feedUrl: '',
  feedId: null,
  itemId: null,
});

describe('PayoutRunner (fakes)', () => {
  // The runner's progress lines would fill the test output; what a test reads of the log it spies on itself.
  beforeAll(() => {
    for (const level of ['log', 'warn'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  });
  afterAll(() => jest.restoreAllMocks());

  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])(
    'never sends a payment without its invoice when several in a chunk are refused (chunk size %i), and pays every other one once',
    async (batchSize) => {
      const world = new World();
      world.runs.set(1n, PayoutStatus.Queued);
      // 12 recipients: 8 paid by invoice, 4 by keysend (every third); 5 of the addresses issue invoices that are refused.
      world.due = Array.from({ length: 12 }, (_, i) => due(i + 1, i % 3 !== 2));
      world.refuseInvoicesOf = new Set([1n, 2n, 5n, 8n, 11n]);
      await world.runner(batchSize).run(1n);

      // Every invoice sent was one the address issued for that very payment.
      for (const r of world.sentInvoices) expect(world.payments.get(BigInt(r.invoice.slice('lnbc-'.length)))!.invoice).toBe(r.invoice);
      const byRecipient = new Map([...world.payments.values()].map((p) => [p.recipient_id, p.status]));
      for (const [recipient, status] of byRecipient) {
        expect([recipient, status]).toEqual([recipient, world.refuseInvoicesOf.has(recipient) ? PaymentStatus.Cancelled : PaymentStatus.Succeeded]);
      }
      const recipientOf = (invoice: string) => world.payments.get(BigInt(invoice.slice('lnbc-'.length)))!.recipient_id;
      expect(world.sentInvoices.map((r) => recipientOf(r.invoice))).toEqual([4n, 7n, 10n]);
      expect(world.sentKeysends).toHaveLength(4); // recipients 3, 6, 9 and 12
      expect(
        world.recipientUpdates
          .filter((u) => u.kind === 'backoff')
          .map((u) => u.recipientId)
          .sort(),
      ).toEqual([1n, 11n, 2n, 5n, 8n]);
      expect(world.runs.get(1n)).toBe(PayoutStatus.Partial);
    },
  );

  it("cancels an invoice payment whose domain did not answer without failing its recipient (the domain's failure, not the recipient's)", async () => {
    const world = new World();
    world.runs.set(1n, PayoutStatus.Queued);
    world.due = [due(1, true), due(2, true), due(3, false)];
    world.refuseInvoicesOf = new Set([1n]);
    world.unansweredInvoicesOf = new Set([2n]);
    await world.runner(4).run(1n);
    const statusOf = (recipient: bigint) => [...world.payments.values()].find((p) => p.recipient_id === recipient)!.status;
    expect([statusOf(1n), statusOf(2n), statusOf(3n)]).toEqual([PaymentStatus.Cancelled, PaymentStatus.Cancelled, PaymentStatus.Succeeded]);
    expect(world.recipientUpdates.filter((u) => u.kind !== 'recovered').map((u) => u.recipientId)).toEqual([1n]);
  });

  it('does not run again a run whose first worker died: recovery ends it interrupted, its payments unknown or owed again, and nothing is sent', async () => {
    const world = new World();
    world.runs.set(7n, PayoutStatus.Running); // its job came back to this worker after the first one died
    const [sending, pending] = await world.moves.create(7n, [
      { balanceId: 1n, recipientId: 1n, reference: 'a', method: PaymentMethod.Keysend, destination: 'd', amountSats: 10n, attempt: 1, customRecords: {} },
      { balanceId: 2n, recipientId: 2n, reference: 'b', method: PaymentMethod.Keysend, destination: 'd', amountSats: 10n, attempt: 1, customRecords: {} },
    ]);
    await world.moves.claim([sending!.id]);
    world.due = [due(3, false)];
    await world.runner(10).run(7n);
    expect(world.runs.get(7n)).toBe(PayoutStatus.Interrupted);
    expect(world.payments.get(sending!.id)!.status).toBe(PaymentStatus.Unknown);
    expect(world.payments.get(pending!.id)!.status).toBe(PaymentStatus.Cancelled);
    expect(world.sentKeysends).toEqual([]);
  });

  it('skips a queued run when another scheduled or manual run holds the lock, and never overwrites a run that started', async () => {
    const world = new World();
    world.lockFree = false;
    world.otherStreamRun = true;
    world.runs.set(1n, PayoutStatus.Queued);
    world.runs.set(2n, PayoutStatus.Completed);
    await world.runner(10).run(1n);
    await world.runner(10).run(2n);
    expect(world.runs.get(1n)).toBe(PayoutStatus.Skipped);
    expect(world.runs.get(2n)).toBe(PayoutStatus.Completed);
  });

  it("never pays boosts in a scheduled run: one app's boost payments cannot hold up or stop stream payouts", async () => {
    const world = new World();
    world.runs.set(1n, PayoutStatus.Queued);
    world.due = Array.from({ length: 4 }, (_, i) => due(i + 1, false)); // 10 sats each, sent 2 a chunk
    world.boostRounds = [[7], [8, 9]];
    await world.runner(2).run(1n);
    expect(world.sentKeysends.map((k) => k.amountSats)).toEqual([10, 10, 10, 10]);
    expect(world.runs.get(1n)).toBe(PayoutStatus.Completed);
  });

  it('a boost run hands the lock over in the middle of a round, before its next chunk, once a scheduled run is queued', async () => {
    const world = new World();
    world.boostRounds = [[1, 2, 3]];
    const runner = world.runner(10);
    const send = world.wallet.payKeysends.bind(world.wallet);
    world.wallet.payKeysends = async (requests, options) => {
      world.streamRunQueued = true;
      return send(requests, options);
    };
    expect(await runner.runBoosts()).toBe(true);
    expect(world.sentKeysends.map((k) => k.amountSats)).toEqual([1]);
    const statuses = [...world.payments.values()].map((p) => p.status);
    expect(statuses).toEqual([PaymentStatus.Succeeded, PaymentStatus.Cancelled, PaymentStatus.Cancelled]); // owed again
  });

  it('a boost run whose lock was taken over (its row ended by the new holder) sends no further chunk', async () => {
    const world = new World();
    world.boostRounds = [[1, 2, 3]];
    const send = world.wallet.payKeysends.bind(world.wallet);
    world.wallet.payKeysends = async (requests, options) => {
      for (const [id, status] of world.runs) if (status === PayoutStatus.Running) world.runs.set(id, PayoutStatus.Interrupted);
      return send(requests, options);
    };
    expect(await world.runner(10).runBoosts()).toBe(true);
    expect(world.sentKeysends.map((k) => k.amountSats)).toEqual([1]);
  });

  it('a scheduled run stops waiting for the lock once it was superseded (it is never run late under its old id)', async () => {
    const world = new World();
    world.lockFree = false;
    world.runs.set(1n, PayoutStatus.Queued);
    world.due = [due(1, false)];
    setTimeout(() => world.runs.set(1n, PayoutStatus.Skipped), 300);
    setTimeout(() => (world.lockFree = true), 3_000);
    const started = Date.now();
    await world.runner(10).run(1n);
    expect(Date.now() - started).toBeLessThan(2_900);
    expect(world.sentKeysends).toEqual([]);
  });

  it('a boost run pays round after round, and hands the lock over as soon as a scheduled run is queued', async () => {
    const world = new World();
    world.boostRounds = [[1], [2], [3], [4]];
    const runner = world.runner(10);
    const send = world.wallet.payKeysends.bind(world.wallet);
    world.wallet.payKeysends = async (requests, options) => {
      if (requests.some((r) => r.amountSats === 2)) world.streamRunQueued = true;
      return send(requests, options);
    };
    expect(await runner.runBoosts()).toBe(true);
    expect(world.sentKeysends.map((k) => k.amountSats)).toEqual([1, 2]);
    expect([...world.runs.values()]).toEqual([PayoutStatus.Completed]);
  });

  it('a boost run is not started while another run holds the lock: nothing is written', async () => {
    const world = new World();
    world.lockFree = false;
    world.boostRounds = [[1]];
    expect(await world.runner(10).runBoosts()).toBe(false);
    expect(world.runs.size).toBe(0);
    expect(world.sentKeysends).toEqual([]);
  });

  it('a scheduled run waits for a boost run that holds the lock instead of being skipped', async () => {
    const world = new World();
    world.lockFree = false;
    world.runs.set(1n, PayoutStatus.Queued);
    world.due = [due(1, false)];
    setTimeout(() => (world.lockFree = true), 500);
    await world.runner(10).run(1n);
    expect(world.runs.get(1n)).toBe(PayoutStatus.Completed);
    expect(world.sentKeysends).toHaveLength(1);
  });

  it('stops a run the wallet refuses: what was not sent is owed again, the run failed with the reason', async () => {
    const world = new World();
    world.runs.set(1n, PayoutStatus.Queued);
    world.due = Array.from({ length: 4 }, (_, i) => due(i + 1, false));
    world.walletRefusesRun = true;
    await world.runner(2).run(1n);
    expect(world.runs.get(1n)).toBe(PayoutStatus.Failed);
    expect([...world.payments.values()].map((p) => p.status)).toEqual(Array(4).fill(PaymentStatus.Cancelled));
    expect(world.sentKeysends).toHaveLength(2); // the first chunk only
    expect(world.recipientUpdates.filter((u) => u.kind !== 'recovered')).toEqual([]);
    expect(world.notes.get(1n)).toMatch(/balance/); // a wallet's reason, worded for people, stays
  });

  it('ends a run that fails internally with a coded note apps may read; the internal text goes to the log only', async () => {
    const world = new World();
    world.runs.set(1n, PayoutStatus.Queued);
    world.due = Array.from({ length: 3 }, (_, i) => due(i + 1, false));
    const secret = 'Invalid `prisma.payment.updateMany()` invocation: secret detail of the database';
    world.moves.claim = async () => {
      throw new Error(secret); // after the plan: its payments are pending, and cancelled with the run's reason
    };
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      await world.runner(10).run(1n);
      expect(world.runs.get(1n)).toBe(PayoutStatus.Failed);
      const note = world.notes.get(1n)!;
      expect(note).toMatch(/^internal_error: /);
      expect(world.cancelReasons).toHaveLength(3);
      for (const shown of [note, ...world.cancelReasons]) {
        expect(shown).not.toContain('prisma');
        expect(shown).not.toContain('secret');
      }
      expect(JSON.stringify(logged.mock.calls)).toContain('secret detail of the database');
    } finally {
      logged.mockRestore();
    }
  });
});
