import { AppError } from '@splitstream/errors';
import { MAX_NESTING_DEPTH, unstorableIssues } from './input-guard.js';

// The walk over everything a request carries: each unstorable string and key named by its path, in document order.
describe('unstorableIssues', () => {
  const of = (body: unknown, query: unknown = {}) => unstorableIssues({ body, query, params: {}, headers: {} });
  const MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

  it('names every unstorable string and key by its path, in document order, and nothing else', () => {
    const body = {
      events: [
        { id: 'fine', value: { recipients: [{ name: 'a\u0000b', split: 1 }, { name: '\ud83d\ude00 paired' }] } },
        { id: '\udc00', ['k\u0000']: 7, tags: ['ok', '\ud800'] },
      ],
      note: 'fine',
    };
    expect(of(body, { q: 'x\u0000' })).toEqual([
      { path: 'query.q', message: MESSAGE },
      { path: 'events[0].value.recipients[0].name', message: MESSAGE },
      { path: 'events[1].id', message: MESSAGE },
      { path: 'events[1].k\u0000', message: `keys ${MESSAGE}` },
      { path: 'events[1].tags[1]', message: MESSAGE },
    ]);
    expect(of({ events: [{ id: 'x', seconds: 1.5, value: null, flags: [true, 0] }] })).toEqual([]);
  });

  it('names at most 20 issues, wherever they are', () => {
    const query = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`q${i}`, '\u0000']));
    const issues = unstorableIssues({ body: '\u0000', query, params: {}, headers: { 'x-request-id': '\ud800' } });
    expect(issues).toHaveLength(20);
    expect(issues.map((issue) => issue.path)).toEqual(Array.from({ length: 20 }, (_, i) => `query.q${i}`));
  });

  it('refuses nesting deeper than the limit, naming where, and accepts the limit itself', () => {
    const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: [nested(depth - 1)] });
    expect(of(nested(MAX_NESTING_DEPTH / 2))).toEqual([]);
    let refusal: unknown;
    try {
      of({ x: nested(MAX_NESTING_DEPTH) });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(AppError);
    expect((refusal as AppError).body().issues).toEqual([
      { path: `x${'.a[0]'.repeat(MAX_NESTING_DEPTH / 2 - 1)}.a`, message: `nests objects and arrays deeper than ${MAX_NESTING_DEPTH} levels` },
    ]);
  });
});
