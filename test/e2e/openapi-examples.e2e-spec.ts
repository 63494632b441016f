import { ROUTE_EXAMPLES, EXAMPLE_RECIPIENTS } from '../../apps/api/src/openapi/examples.js';
import { eventually, request } from '../support/http.js';
import { tryItOut } from '../support/try-it-out.js';
import { type Stack, startStack } from '../support/stack.js';

// Every request example of the served OpenAPI document, sent as Swagger UI's Try it out sends it, in the order of
// ROUTE_EXAMPLES, to a fresh service with the test's key: each gets a success status its operation documents, and
// (test/support/http.ts) an answer that matches the document.
describe('OpenAPI request examples (e2e)', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A wallet answer lost (the simulator hangs past ALBY_TIMEOUT_MS): the payments examples settle unknown payments.
    stack = await startStack({ ALBY_TIMEOUT_MS: '1000' });
    for (const address of EXAMPLE_RECIPIENTS) await stack.sim.setRule(address, { hang: true });
  });
  afterAll(() => stack.close());

  it('answers each example, in order, with a documented success status', async () => {
    const document = (await request(stack.baseUrl, '/docs/openapi.json')).body;
    const sent: string[] = [];
    for (const key of Object.keys(ROUTE_EXAMPLES)) {
      const [method, template] = key.split(' ') as [string, string];
      const operation = document.paths[template][method.toLowerCase()];
      const { path, query, body } = tryItOut(template, operation);
      const res = await request(stack.baseUrl, `${path}${query.size ? `?${query}` : ''}`, {
        method,
        headers: { authorization: `Bearer ${stack.key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const successes = Object.keys(operation.responses).filter((status) => status.startsWith('2'));
      const outcome = successes.includes(String(res.status)) ? 'a documented success' : `${res.status} ${JSON.stringify(res.body)}`;
      expect({ key, outcome }).toEqual({ key, outcome: 'a documented success' });
      // A list Try it out filled with made-up filters answers 200 and nothing: each paged list's example finds rows.
      if (res.body && 'nextBefore' in res.body) {
        const rows = Object.values(res.body).find(Array.isArray) as unknown[];
        expect({ key, empty: rows.length === 0 }).toEqual({ key, empty: false });
      }
      sent.push(`${method} ${template}`);
      // What the service does in the background before the next example can see it.
      if (key === 'POST /v1/events') await stack.accumulated();
      if (key === 'POST /v1/payouts/run') {
        await eventually(
          () => stack.http.get(`/v1/payouts/${res.body.id}`),
          (r) => r.status === 200 && !['queued', 'running'].includes(r.body.status),
          20_000,
        );
        for (const address of EXAMPLE_RECIPIENTS) await stack.sim.clearRule(address);
      }
    }
    // Every operation but the deprecated aliases has an example, and each was sent.
    const operations = Object.entries<Record<string, { deprecated?: boolean }>>(document.paths).flatMap(([template, ops]) =>
      Object.entries(ops)
        .filter(([, operation]) => !operation.deprecated)
        .map(([method]) => `${method.toUpperCase()} ${template}`),
    );
    expect(sent.sort()).toEqual(operations.sort());
  });

  it('sent payments examples that settled what they name', async () => {
    const [resolved, checked] = await Promise.all([stack.http.get('/v1/payments/1'), stack.http.get('/v1/payments/2')]);
    expect(resolved.body).toMatchObject({ status: 'failed', resolvedBy: expect.stringContaining('api key') });
    expect(checked.body).toMatchObject({ status: 'succeeded' });
  });
});
