import { passesOf } from './apply-passes.js';

describe('passesOf', () => {
  const sized = (...bytes: number[]) => bytes.map((b, i) => ({ id: i, bytes: b }));

  it('keeps a batch of small events in one pass', () => {
    expect(passesOf(sized(1, 2, 3), 10).map((p) => p.map((e) => e.id))).toEqual([[0, 1, 2]]);
  });

  it('starts a new pass when the next event would exceed the budget, keeping the order', () => {
    expect(passesOf(sized(4, 4, 4, 1, 9), 10).map((p) => p.map((e) => e.id))).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('gives an event larger than the budget a pass of its own', () => {
    expect(passesOf(sized(2, 50, 2), 10).map((p) => p.map((e) => e.id))).toEqual([[0], [1], [2]]);
  });

  it('has no pass for no events', () => {
    expect(passesOf([], 10)).toEqual([]);
  });
});
