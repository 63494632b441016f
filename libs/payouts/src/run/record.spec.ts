import type { PaymentOutcome } from '@splitstream/wallet';
import { decideRecord, failRecipient, finalRunStatus, retryDelaySeconds, type SentPayment } from './record.js';

const policy = { baseSeconds: 60, maxSeconds: 3_600, maxAttempts: 3 };
const now = new Date('2026-11-29T12:00:00Z');
const sent = (id: number, recipientId: number, appId = 'app'): SentPayment => ({
  paymentId: BigInt(id),
  balanceId: BigInt(id),
  recipientId: BigInt(recipientId),
  appId,
  msat: 10_000n,
});

describe('retryDelaySeconds', () => {
  it('doubles from the base with each consecutive failure', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, 60, 10_000))).toEqual([60, 120, 240, 480, 960]);
  });

  it('is capped', () => {
    expect(retryDelaySeconds(30, 60, 3_600)).toBe(3_600);
  });
});

describe('decideRecord (pure)', () => {
  it('settles paid keysends, releases failed and never-sent ones, keeps unknown in flight, and blames only item failures', () => {
    const outcomes: PaymentOutcome[] = [
      { status: 'paid', amountSats: 10, feeSats: 1, paymentHash: 'h', preimage: 'p', destination: 'd', customRecords: {} },
      { status: 'not_paid', code: 10, message: 'no_route', scope: 'item' },
      { status: 'not_paid', code: 1, message: 'bad auth', scope: 'request', refusal: 'wallet' },
      { status: 'unknown', reason: 'timeout' },
    ];
    const decision = decideRecord(
      [sent(1, 1), sent(2, 2), sent(3, 3), sent(4, 4)],
      outcomes,
      new Map([['2 app', { recipientId: 2n, appId: 'app', consecutiveFailures: 1 }]]),
      policy,
      now,
    );
    expect(decision.succeeded.map((s) => [s.payment.paymentId, s.feeSats])).toEqual([[1n, 1]]);
    expect(decision.failed.map((f) => [f.payment.paymentId, f.reason])).toEqual([[2n, { code: '10', message: 'no_route' }]]);
    expect(decision.cancelled.map((c) => [c.payment.paymentId, c.reason])).toEqual([[3n, { code: '1', message: 'bad auth' }]]);
    expect(decision.unknown.map((u) => u.payment.paymentId)).toEqual([4n]);
    expect(decision.recipients).toEqual([
      {
        recipientId: 2n,
        appId: 'app',
        kind: 'backoff',
        failures: 2,
        nextAttemptAt: new Date(now.getTime() + 120_000),
        reason: { code: '10', message: 'no_route' },
      },
      { recipientId: 1n, appId: 'app', kind: 'recovered' },
    ]);
  });

  it('counts one failure per recipient per chunk, and a failure wins over a success of the same recipient', () => {
    const outcomes: PaymentOutcome[] = [
      { status: 'not_paid', code: 10, message: 'a', scope: 'item' },
      { status: 'not_paid', code: 10, message: 'b', scope: 'item' },
      { status: 'paid', amountSats: 10, feeSats: 0, paymentHash: 'h', preimage: 'p', destination: 'd', customRecords: {} },
    ];
    const decision = decideRecord([sent(1, 7), sent(2, 7), sent(3, 7)], outcomes, new Map(), policy, now);
    expect(decision.recipients).toEqual([expect.objectContaining({ recipientId: 7n, appId: 'app', kind: 'backoff', failures: 1 })]);
  });

  it("keeps each app's standing for one recipient apart: one app's failure never backs off or parks another app's money", () => {
    const outcomes: PaymentOutcome[] = [
      { status: 'not_paid', code: 2, message: 'invalid destination pubkey', scope: 'item' },
      { status: 'paid', amountSats: 10, feeSats: 0, paymentHash: 'h', preimage: 'p', destination: 'd', customRecords: {} },
    ];
    const standings = new Map([
      ['7 app-a', { recipientId: 7n, appId: 'app-a', consecutiveFailures: 2 }],
      ['7 app-b', { recipientId: 7n, appId: 'app-b', consecutiveFailures: 0 }],
    ]);
    const decision = decideRecord([sent(1, 7, 'app-a'), sent(2, 7, 'app-b')], outcomes, standings, policy, now);
    expect(decision.recipients).toEqual([
      { recipientId: 7n, appId: 'app-a', kind: 'park', failures: 3, reason: { code: '2', message: 'invalid destination pubkey' } },
      { recipientId: 7n, appId: 'app-b', kind: 'recovered' },
    ]);
  });

  it('parks a recipient at its last allowed attempt', () => {
    expect(failRecipient({ recipientId: 5n, appId: 'app', consecutiveFailures: 2 }, { code: '2', message: 'invalid destination pubkey' }, policy, now)).toEqual(
      {
        recipientId: 5n,
        appId: 'app',
        kind: 'park',
        failures: 3,
        reason: { code: '2', message: 'invalid destination pubkey' },
      },
    );
  });
});

describe('finalRunStatus (pure)', () => {
  const counts = (c: Partial<Record<'keysends' | 'succeeded' | 'failed' | 'unknown' | 'cancelled', number>>) => ({
    keysends: 0,
    succeeded: 0,
    failed: 0,
    unknown: 0,
    cancelled: 0,
    ...c,
  });
  it('is completed when all were paid or nothing was due, partial otherwise, failed when the wallet refused before paying', () => {
    expect(finalRunStatus(counts({}))).toEqual({ status: 'completed', note: 'nothing owed was due' });
    expect(finalRunStatus(counts({ keysends: 2, succeeded: 2 }))).toEqual({ status: 'completed', note: null });
    expect(finalRunStatus(counts({ keysends: 2, succeeded: 1, unknown: 1 })).status).toBe('partial');
    expect(finalRunStatus(counts({ keysends: 2, unknown: 2 })).status).toBe('partial');
    expect(finalRunStatus(counts({ keysends: 2, cancelled: 2 }), 'bad auth')).toEqual({ status: 'failed', note: 'bad auth' });
    expect(finalRunStatus(counts({ keysends: 3, succeeded: 1, cancelled: 2 }), 'bad auth')).toEqual({ status: 'partial', note: 'bad auth' });
  });
});
