import { Controller, Get } from '@nestjs/common';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { spawnSync } from 'node:child_process';
import { RequireScope, Scope } from '@splitstream/auth';
import { HTTP_STATUS } from '@splitstream/errors';
import { API_CONTROLLERS } from '../../apps/api/src/api.module.js';
import { z } from 'zod';
import { buildOpenApiDocument } from '../../apps/api/src/openapi/openapi-document.js';
import { ROUTE_EXAMPLES } from '../../apps/api/src/openapi/examples.js';
import { ROUTE_DOCS } from '../../apps/api/src/openapi/route-docs.js';
import { checkResponse } from '../support/openapi-check.js';
import { request } from '../support/http.js';
import { ROUTES } from '../support/routes.js';
import { type Stack, startStack } from '../support/stack.js';

// An optional query parameter's example is in its description (Swagger UI's Try it out would send a schema's).
const parameterSchema = (parameter: { schema: object; description?: string }) => {
  const shown = /^For example: (.*)$/.exec(parameter.description ?? '')?.[1];
  return shown === undefined ? parameter.schema : { ...parameter.schema, example: JSON.parse(shown) };
};

describe('OpenAPI (e2e)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
  });
  afterAll(() => stack.close());

  it('serves a valid OpenAPI 3 document at /docs/openapi.json listing every route, its scope and the error shape', async () => {
    const res = await request(stack.baseUrl, '/docs/openapi.json');
    expect(res.status).toBe(200);
    const document = res.body;
    // Validated by swagger-parser in a plain Node process (it cannot load inside jest's module system on Node 20).
    const validation = spawnSync(
      'node',
      [
        '--input-type=module',
        '-e',
        "import P from '@apidevtools/swagger-parser'; const d = JSON.parse(require('fs').readFileSync(0, 'utf8')); await P.validate(d); console.log('valid')".replace(
          "require('fs')",
          "(await import('node:fs'))",
        ),
      ],
      { input: JSON.stringify(document), encoding: 'utf8' },
    );
    expect(validation.stderr).toBe('');
    expect(validation.stdout.trim()).toBe('valid');
    expect(document.openapi).toMatch(/^3\./);

    for (const route of ROUTES) {
      const path = route.path
        .split('?')[0]!
        .replace('/some-id', '/{id}')
        .replace('/some-feed', '/{feedGuid}')
        .replace(/\/1(\/|$)/, '/{id}$1');
      const operation = document.paths[path]?.[route.method.toLowerCase()];
      expect({ route: `${route.method} ${path}`, scope: operation?.['x-required-scope'] }).toEqual({ route: `${route.method} ${path}`, scope: route.scope });
      expect(operation.responses['401']).toEqual({ $ref: '#/components/responses/Error401' });
      expect(operation.responses['403']).toEqual({ $ref: '#/components/responses/Error403' });
    }
    const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`));
    // ROUTES lists the routes that need a scope; besides them: health and /v1/apps/me (any key). /metrics is not
    // on the public port (METRICS_PORT).
    expect(documented).toHaveLength(ROUTES.length + 2);
    expect(documented).toEqual(expect.arrayContaining(['GET /health', 'GET /v1/apps/me']));
    expect(documented).not.toContain('GET /metrics');
    expect(document.components.schemas.Error.properties).toHaveProperty('error');
    expect(document.paths['/v1/events'].post.requestBody.content['application/json'].schema.properties.events.maxItems).toBe(500);
  });

  it('gives every field a real example, and every id, amount, key, hash and time a pattern or format; every operation a tag', async () => {
    const document = (await request(stack.baseUrl, '/docs/openapi.json')).body;
    const missing: string[] = [];
    const shaped = /(^id$|Id$|^payout$|^recipient$|^before$|nextBefore|Msat$|^address$|customKey|paymentHash|preimage|At$|^hour$|^from$|^to$)/;
    // An event's id is the app's own text (1 to 128 characters): no pattern is true of it.
    const appsOwn = /(events\[\]\.id|\/v1\/events\/\{id\} (path id|200\.id))$/;
    const walk = (schema: any, where: string, name?: string): void => {
      if (!schema || typeof schema !== 'object') return;
      const leaf = !schema.properties && !schema.items && schema.type !== 'object' && !schema.anyOf && !schema.oneOf;
      if (leaf && name !== undefined) {
        if (schema.example === undefined) missing.push(`${where}: no example`);
        if (schema.type === 'string' && shaped.test(name) && !appsOwn.test(where) && !schema.pattern && !schema.format && !schema.enum)
          missing.push(`${where}: no pattern or format`);
        if (schema.type === 'integer' && Math.abs(schema.maximum ?? 0) === Number.MAX_SAFE_INTEGER) missing.push(`${where}: 2^53 bound`);
      }
      for (const [property, child] of Object.entries(schema.properties ?? {})) walk(child, `${where}.${property}`, property);
      if (schema.items) walk(schema.items, `${where}[]`, `${name}[]`);
      for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) walk(branch, where, name);
    };
    for (const [path, operations] of Object.entries<any>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        if (operation.tags?.length !== 1 || !document.tags.some((t: { name: string }) => t.name === operation.tags[0])) missing.push(`${where}: no tag`);
        for (const parameter of operation.parameters ?? []) walk(parameterSchema(parameter), `${where} ${parameter.in} ${parameter.name}`, parameter.name);
        walk(operation.requestBody?.content['application/json'].schema, `${where} body`);
        for (const [status, response] of Object.entries<any>(operation.responses)) walk(response.content?.['application/json']?.schema, `${where} ${status}`);
      }
    }
    walk(document.components.schemas.Error, 'Error');
    expect(missing).toEqual([]);
    // Spot checks of what clients rely on.
    const recipient = document.paths['/v1/recipients/{id}'].get.responses['200'].content['application/json'].schema.properties;
    expect(recipient.address).toMatchObject({
      pattern: '^(0[23][0-9a-fA-F]{64}|[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+)$',
      example: expect.stringMatching(/^0[23][0-9a-f]{64}$/),
    });
    // The service accepts an address in any case (and lowercases it).
    for (const address of ['alice@pods.example', 'Alice@Pods.Invalid']) expect(new RegExp(recipient.address.pattern).test(address)).toBe(true);
    expect(recipient.type).toMatchObject({ enum: ['node', 'lnaddress'] });
    expect(recipient.owedMsat).toMatchObject({ type: 'string', pattern: '^[0-9]+$', example: expect.stringMatching(/^[0-9]+$/) });
    expect(recipient.consecutiveFailures).not.toHaveProperty('maximum');
    expect(document.paths['/v1/events'].post.responses['429']).toEqual({ $ref: '#/components/responses/Error429' });
    // 429 is rate limiting only: a spend cap rejects single events, named in a 202's results or a 400's issues.
    expect(document.components.responses.Error429.description).toBe('Rate limited (rate_limited); see Retry-After');
    expect(document.components.schemas.Error.properties.error.enum).toEqual(expect.arrayContaining(['events_rejected', 'invalid_request']));
    expect(document.components.schemas.Error.properties.issues.items.properties.code.enum).toEqual(
      expect.arrayContaining(['listener_day_cap_exceeded', 'conflict']),
    );
    const ingested = document.paths['/v1/events'].post.responses['202'].content['application/json'].schema.properties;
    expect(ingested.events.items.properties.status.enum).toEqual(['accepted', 'duplicate', 'conflict', 'rejected']);
    expect(ingested.events.items.properties.code.enum).toEqual(expect.arrayContaining(['app_day_cap_exceeded', 'request_amount_too_large']));
    expect(ingested.events.items.properties.code.enum).toContain(ingested.events.items.properties.code.example);
  });

  it('describes POST /v1/events as the service takes it: a closed body, the Podcast Index shape, 202 Accepted; each error code with its status', async () => {
    const document = (await request(stack.baseUrl, '/docs/openapi.json')).body;
    const post = document.paths['/v1/events'].post;
    const body = post.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    const shapes = body.properties.events.items.properties.value.anyOf ?? body.properties.events.items.properties.value.oneOf;
    const podcastIndex = shapes.find((shape: any) => shape.properties?.model);
    expect(podcastIndex.properties.model.properties.type).toMatchObject({ example: 'lightning' });
    expect(post.responses['202'].description).toMatch(/^Accepted: /);
    const described = document.components.schemas.Error.properties.error.description;
    for (const [code, status] of Object.entries(HTTP_STATUS)) expect(described).toContain(`${code} ${status}`);
    // The service refuses what the document closes.
    const res = await request(stack.baseUrl, '/v1/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...ROUTE_EXAMPLES['POST /v1/events']!.body!, batch: 1 }),
    });
    expect([res.status, res.body.issues[0].path]).toEqual([400, 'batch']);
  });

  it('gives examples its own schemas accept: every field, parameter and request body example', async () => {
    const document = (await request(stack.baseUrl, '/docs/openapi.json')).body;
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajvFormats.default(ajv);
    const wrong: string[] = [];
    const check = (schema: object, example: unknown, where: string) => {
      const validate = ajv.compile(schema);
      if (!validate(example)) wrong.push(`${where}: ${JSON.stringify(example)} ${ajv.errorsText(validate.errors)}`);
    };
    const walk = (schema: any, where: string): void => {
      if (!schema || typeof schema !== 'object' || schema.$ref) return;
      if (schema.example !== undefined) check(schema, schema.example, where);
      for (const [property, child] of Object.entries(schema.properties ?? {})) walk(child, `${where}.${property}`);
      if (schema.items) walk(schema.items, `${where}[]`);
      for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) walk(branch, where);
    };
    let examples = 0;
    for (const [path, operations] of Object.entries<any>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        for (const parameter of operation.parameters ?? []) {
          walk(parameterSchema(parameter), `${where} ${parameter.in} ${parameter.name}`);
          if (parameter.example !== undefined) check(parameter.schema, parameter.example, `${where} ${parameter.in} ${parameter.name} (example)`);
        }
        const body = operation.requestBody?.content['application/json'];
        if (body) walk(body.schema, `${where} body`);
        if (body?.example !== undefined) check(body.schema, body.example, `${where} body (example)`);
        for (const [status, response] of Object.entries<any>(operation.responses)) walk(response.content?.['application/json']?.schema, `${where} ${status}`);
        examples += (operation.parameters ?? []).filter((p: { example?: unknown }) => p.example !== undefined).length + (body?.example ? 1 : 0);
      }
    }
    walk(document.components.schemas.Error, 'Error');
    expect(wrong).toEqual([]);
    expect(examples).toBeGreaterThan(15);
  });

  it('refuses to build a document with a field it has no example for', () => {
    @Controller('v1/undocumented-field')
    class NewFieldController {
      @Get()
      @RequireScope(Scope.PayoutsRead)
      get() {
        return {};
      }
    }
    ROUTE_DOCS['GET /v1/undocumented-field'] = { summary: 'x', response: z.object({ brandNewField: z.string() }), errors: [] };
    ROUTE_EXAMPLES['GET /v1/undocumented-field'] = {};
    try {
      expect(() => buildOpenApiDocument([...API_CONTROLLERS, NewFieldController])).toThrow('the field "brandNewField" has no entry in FIELD_DOCS');
    } finally {
      delete ROUTE_DOCS['GET /v1/undocumented-field'];
      delete ROUTE_EXAMPLES['GET /v1/undocumented-field'];
    }
  });

  it('refuses to build a document with a route without an example, or with an example the api would refuse', () => {
    const { events } = ROUTE_EXAMPLES['POST /v1/events']!.body as { events: { value: object }[] };
    const original = ROUTE_EXAMPLES['POST /v1/events']!;
    try {
      ROUTE_EXAMPLES['POST /v1/events'] = { body: { events: [{ ...events[0], value: { ...events[0]!.value, type: 'node' } }] } };
      expect(() => buildOpenApiDocument(API_CONTROLLERS)).toThrow(
        /the example of POST \/v1\/events has a body the api refuses: events.0.value.type unsupported value type "node"/,
      );
      delete ROUTE_EXAMPLES['POST /v1/events'];
      expect(() => buildOpenApiDocument(API_CONTROLLERS)).toThrow('POST /v1/events has no entry in ROUTE_EXAMPLES');
    } finally {
      ROUTE_EXAMPLES['POST /v1/events'] = original;
    }
  });

  it('checks a response against the document: an undocumented status, a wrong or an undocumented field fail with the route named', () => {
    const url = `${stack.baseUrl}/v1/payouts/7`;
    const payout = {
      id: '7',
      trigger: 'manual',
      status: 'completed',
      note: null,
      createdAt: '2026-11-29T14:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      keysends: [],
    };
    const totals = { keysends: 0, succeeded: 0, failed: 0, cancelled: 0, unknown: 0, pending: 0, sats: 0, paidSats: 0, feeSats: 0 };
    expect(() => checkResponse('GET', url, 200, 'application/json', { ...payout, totals })).not.toThrow();
    expect(() => checkResponse('GET', url, 418, 'application/json', {})).toThrow(
      'GET /v1/payouts/7 answered 418, a status the document does not list for GET /v1/payouts/{id}',
    );
    expect(() => checkResponse('GET', url, 200, 'application/json', { ...payout, totals: { ...totals, sats: '0' } })).toThrow(
      /GET \/v1\/payouts\/\{id\} 200\) does not match its schema:\n  \/totals\/sats must be integer/,
    );
    expect(() => checkResponse('GET', url, 200, 'application/json', { ...payout, totals, secret: 1 })).toThrow(/must NOT have additional properties .*secret/);
    expect(() => checkResponse('GET', url, 404, 'application/json', { error: 'not_found', message: 'no such payout' })).not.toThrow();
    // Not JSON (a CSV statement), or not a documented path: not checked.
    expect(() => checkResponse('GET', url, 200, 'text/csv', 'a,b')).not.toThrow();
    expect(() => checkResponse('GET', `${stack.baseUrl}/v1/nowhere`, 404, 'application/json', {})).not.toThrow();
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await fetch(`${stack.baseUrl}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-ui');
  });

  it('refuses to build a document with an undocumented route', () => {
    @Controller('v1/secret')
    class UndocumentedController {
      @Get()
      @RequireScope(Scope.PayoutsRead)
      get() {
        return {};
      }
    }
    expect(() => buildOpenApiDocument([...API_CONTROLLERS, UndocumentedController])).toThrow('GET /v1/secret has no entry in ROUTE_DOCS');
  });
});
