import { request as httpRequest } from 'node:http';
import { parse } from 'csv-parse/sync';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { request } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const BAD_KEY = 'ss_not-a-real-key-but-the-right-shape-000000000';
const MAX_BIGINT = '9223372036854775807';
const BEYOND = '9223372036854775808';
const errorShape = (error: string) => ({ error, message: expect.any(String) });

// Raw HTTP, so a path the URL parser would normalise (a bad percent-encoding) reaches the server as written.
function rawGet(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const formulas = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", '-1+1', '@SUM(A1)', '\t=1+2', '\r=1+2'];

// Issue 21 (api input): authentication before the body, bounded nesting, ids/cursors/amounts within bigint,
// one error shape for every failure, and statement CSVs that spreadsheets cannot run.
describe('api input hardening (e2e)', () => {
  let stack: Stack;
  const post = (path: string, body: string, key?: string) =>
    request(stack.baseUrl, path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) },
      body,
    });

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  describe('authentication before the body', () => {
    const big = (valid: boolean) => {
      const filler = 'x'.repeat(4.9 * 1024 * 1024);
      return valid ? JSON.stringify({ events: [], filler }) : `{"events": [${filler}`;
    };

    it.each([
      ['a valid JSON body of 4.9 MB', true],
      ['an invalid JSON body of 4.9 MB (401, not 400: it was never parsed)', false],
    ])('refuses %s with a bad or missing key: 401', async (_, valid) => {
      const body = big(valid);
      expect(Buffer.byteLength(body)).toBeGreaterThan(4.8 * 1024 * 1024);
      for (const key of [BAD_KEY, undefined]) {
        const res = await post('/v1/events', body, key);
        expect(res).toMatchObject({ status: 401, body: errorShape('unauthorized') });
      }
    });

    it('still parses bodies for a valid key (an invalid JSON body is then 400 invalid_json)', async () => {
      expect(await post('/v1/events', '{"events": [', stack.key)).toMatchObject({ status: 400, body: errorShape('invalid_json') });
      expect(await post('/v1/events', JSON.stringify({ events: [] }), stack.key)).toMatchObject({ status: 400, body: errorShape('invalid_request') });
    });

    it('keeps public routes public', async () => {
      expect((await request(stack.baseUrl, '/health')).status).toBe(200);
      expect((await request(stack.baseUrl, '/docs/openapi.json')).status).toBe(200);
    });

    it('answers GET / (no key) with links to the docs, the document, the dashboard and health, each public', async () => {
      const root = await request(stack.baseUrl, '/');
      expect(root).toMatchObject({
        status: 200,
        body: { service: 'splitstream', docs: '/docs', openapi: '/docs/openapi.json', dashboard: '/dashboard/', health: '/health' },
      });
      for (const [name, path] of Object.entries<string>(root.body).filter(([name]) => name !== 'service')) {
        expect([name, (await fetch(`${stack.baseUrl}${path}`)).status]).toEqual([name, 200]);
      }
    });
  });

  describe('nesting depth', () => {
    it('answers JSON nested 5,000 deep with 400 naming the limit, and stays up', async () => {
      const deep = `{"events": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
      const res = await post('/v1/events', deep, stack.key);
      expect(res).toMatchObject({ status: 400, body: { error: 'invalid_request', message: expect.stringContaining('32 levels') } });
      expect(res.body.issues).toEqual([expect.objectContaining({ message: expect.stringContaining('deeper than 32 levels') })]);
      const objects = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
      expect(await post('/v1/events', objects, stack.key)).toMatchObject({ status: 400, body: errorShape('invalid_request') });
      expect((await stack.http.get('/v1/summary')).status).toBe(200);
    });

    it('accepts nesting up to the limit (an ordinary invalid body is judged on its fields, each event on its own)', async () => {
      const res = await post('/v1/events', `{"events": ${'['.repeat(30)}${']'.repeat(30)}}`, stack.key);
      expect(res).toMatchObject({
        status: 400,
        body: { ...errorShape('events_rejected'), issues: [{ index: 0, code: 'invalid_request', path: 'events[0]' }] },
      });
      expect(res.body.message).not.toContain('levels');
    });
  });

  describe('ids, cursors and amounts within bigint', () => {
    it.each([
      `/v1/payments/${BEYOND}`,
      `/v1/keysends/${BEYOND}`,
      `/v1/payouts/${BEYOND}`,
      `/v1/recipients/${BEYOND}`,
      `/v1/recipients/${BEYOND}/statement`,
      '/v1/payments/99999999999999999999999',
    ])('GET %s: 404 in the error shape', async (path) => {
      expect(await stack.http.get(path)).toMatchObject({ status: 404, body: errorShape('not_found') });
    });

    it(`takes ${MAX_BIGINT} itself as an id that names no row (404), and not as a cursor (opaque, 400)`, async () => {
      expect(await stack.http.get(`/v1/payments/${MAX_BIGINT}`)).toMatchObject({ status: 404, body: errorShape('not_found') });
      expect(await stack.http.get(`/v1/payments?before=${MAX_BIGINT}`)).toMatchObject({ status: 400, body: errorShape('invalid_request') });
      expect((await stack.http.get(`/v1/recipients?owedAtLeastMsat=${MAX_BIGINT}`)).status).toBe(200);
    });

    it.each([
      `/v1/payments?before=${BEYOND}`,
      `/v1/keysends?before=${BEYOND}`,
      `/v1/payments?recipient=${BEYOND}`,
      `/v1/payouts?before=${BEYOND}`,
      `/v1/recipients?before=${BEYOND}`,
      '/v1/recipients?owedAtLeastMsat=9999999999999999999',
      `/v1/recipients?owedAtLeastMsat=${BEYOND}`,
    ])('GET %s: 400 naming the parameter', async (path) => {
      const res = await stack.http.get(path);
      expect(res).toMatchObject({ status: 400, body: errorShape('invalid_request') });
      expect(res.body.issues).toEqual([expect.objectContaining({ path: expect.stringMatching(/^(before|recipient|owedAtLeastMsat)$|query/) })]);
    });

    it('answers a POST to an id beyond bigint with 404', async () => {
      expect(await post(`/v1/payments/${BEYOND}/check`, '{}', stack.key)).toMatchObject({ status: 404, body: errorShape('not_found') });
      expect(await post(`/v1/payments/${BEYOND}/resolve`, JSON.stringify({ outcome: 'failed', reason: 'x', confirm: true }), stack.key)).toMatchObject({
        status: 404,
        body: errorShape('not_found'),
      });
    });

    it('answers a URL that is not valid UTF-8 in the error shape', async () => {
      for (const path of ['/v1/payments/%ff', '/v1/keysends/%c3%28', '/v1/payments?before=%ff']) {
        const res = await rawGet(stack.baseUrl, path, { authorization: `Bearer ${stack.key}` });
        expect([path, res.status]).toEqual([path, expect.any(Number)]);
        expect([400, 404]).toContain(res.status);
        expect(res.body).toEqual({
          ...errorShape(res.status === 400 ? 'invalid_request' : 'not_found'),
          ...(res.body.issues && { issues: expect.any(Array) }),
        });
      }
    });

    it('answers unknown routes and methods in the error shape', async () => {
      expect(await stack.http.get('/v1/nothing-here')).toMatchObject({ status: 404, body: errorShape('not_found') });
      const res = await request(stack.baseUrl, '/v1/summary', { method: 'DELETE', headers: { authorization: `Bearer ${stack.key}` } });
      expect(res.body).toEqual(errorShape(res.status === 404 ? 'not_found' : 'invalid_request'));
    });
  });

  describe('statement CSV', () => {
    it('neutralises formulas in every column', async () => {
      const address = pubkey(0xc5f);
      const events = formulas.map((text, i) => ({
        id: `csv-${i}`,
        feedGuid: `feed-csv`,
        itemGuid: `${text}-item-${i}`,
        feedTitle: formulas[0],
        itemTitle: `${text} episode`,
        position: 0,
        seconds: 60,
        satsPerMinute: 10,
        value: { type: 'lightning', method: 'keysend', recipients: [{ name: text, type: 'node', address, split: 1 }] },
      }));
      const accepted = await post('/v1/events', JSON.stringify({ events }), stack.key);
      expect(accepted.status).toBe(202);
      await stack.accumulated();
      const recipientId = (await stack.recipient(address)).body.id;
      const csv = await request(stack.baseUrl, `/v1/recipients/${recipientId}/statement`, {
        headers: { authorization: `Bearer ${stack.key}`, accept: 'text/csv' },
      });
      expect(csv.status).toBe(200);
      const rows: Record<string, string>[] = parse(csv.body, { columns: true, relax_column_count: false });
      const episodes = rows.filter((r) => r.row === 'episode');
      expect(episodes).toHaveLength(formulas.length);
      // No cell of any row starts with a formula character; the text is kept after the quote.
      for (const row of rows) for (const [column, cell] of Object.entries(row)) expect([column, /^[=+\-@\t\r]/.test(cell)]).toEqual([column, false]);
      expect(episodes.map((e) => e.item_title).sort()).toEqual(formulas.map((text) => `'${text} episode`).sort());
      expect(episodes.map((e) => e.item_guid).sort()).toEqual(formulas.map((text, i) => `'${text}-item-${i}`).sort());
      expect(new Set(rows.filter((r) => r.feed_title).map((r) => r.feed_title))).toEqual(new Set([`'${formulas[0]}`]));
      // Amounts are untouched.
      expect(rows.find((r) => r.row === 'total')!.accrued_msat).toMatch(/^[1-9][0-9]*$/);
    });
  });
});
