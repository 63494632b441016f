import { PaymentStatus } from '@splitstream/ledger';
import { canMove, IllegalTransitionError, needsVerdict, PAYMENT_TRANSITIONS } from './transitions.js';

// The table written out once more by hand: a change to PAYMENT_TRANSITIONS fails here until this list agrees.
const ALLOWED: ReadonlyArray<readonly [PaymentStatus, PaymentStatus]> = [
  ['pending', 'sending'],
  ['pending', 'cancelled'],
  ['sending', 'succeeded'],
  ['sending', 'failed'],
  ['sending', 'unknown'],
  ['sending', 'cancelled'],
  ['unknown', 'succeeded'],
  ['unknown', 'failed'],
];

const STATUSES: PaymentStatus[] = ['pending', 'sending', 'succeeded', 'failed', 'unknown', 'cancelled'];
const key = (from: string, to: string) => `${from} -> ${to}`;

describe('payment transitions', () => {
  it('covers exactly the statuses of PaymentStatus', () => {
    expect(new Set(Object.values(PaymentStatus))).toEqual(new Set(STATUSES));
    expect(new Set(Object.keys(PAYMENT_TRANSITIONS))).toEqual(new Set(STATUSES));
  });

  const allowed = new Set(ALLOWED.map(([from, to]) => key(from, to)));
  const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => [from, to, allowed.has(key(from, to))] as const));

  it.each(pairs)('canMove(%s, %s) is %s', (from, to, expected) => {
    expect(canMove(from, to)).toBe(expected);
  });

  it('allows exactly the listed pairs (36 pairs, 8 allowed)', () => {
    const actual = pairs.filter(([from, to]) => canMove(from, to)).map(([from, to]) => key(from, to));
    expect(actual.sort()).toEqual([...allowed].sort());
  });

  it('final statuses move nowhere', () => {
    for (const final of ['succeeded', 'failed', 'cancelled'] as const) expect(PAYMENT_TRANSITIONS[final]).toEqual([]);
  });

  it('only a move out of unknown needs a verdict', () => {
    for (const from of STATUSES) expect(needsVerdict(from)).toBe(from === 'unknown');
  });

  it('IllegalTransitionError names both statuses', () => {
    const error = new IllegalTransitionError('succeeded', 'failed');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('IllegalTransitionError');
    expect(error.message).toContain('succeeded');
    expect(error.message).toContain('failed');
  });
});
