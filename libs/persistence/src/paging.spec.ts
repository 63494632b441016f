import { pageOf } from './paging.js';

const rows = (...ids: number[]) => ids.map((id) => ({ id: BigInt(id) }));

describe('pageOf', () => {
  it('gives a cursor only when a row past the page was read', () => {
    expect(pageOf(rows(9, 8, 7), 2)).toEqual({ rows: rows(9, 8), nextBefore: '8' });
    expect(pageOf(rows(9, 8), 2)).toEqual({ rows: rows(9, 8), nextBefore: null }); // exactly full: the last page
    expect(pageOf(rows(9), 2)).toEqual({ rows: rows(9), nextBefore: null });
    expect(pageOf([], 2)).toEqual({ rows: [], nextBefore: null });
  });
});
