import { Controller, Get } from '@nestjs/common';
import { spawnSync } from 'node:child_process';
import { RequireScope, Scope } from '@splitstream/auth';
import { API_CONTROLLERS } from '../../apps/api/src/api.module.js';
import { buildOpenApiDocument } from '../../apps/api/src/openapi/openapi-document.js';
import { request } from '../support/http.js';
import { ROUTES } from '../support/routes.js';
import { type Stack, startStack } from '../support/stack.js';

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
      ['--input-type=module', '-e', "import P from '@apidevtools/swagger-parser'; const d = JSON.parse(require('fs').readFileSync(0, 'utf8')); await P.validate(d); console.log('valid')".replace("require('fs')", "(await import('node:fs'))")],
      { input: JSON.stringify(document), encoding: 'utf8' },
    );
    expect(validation.stderr).toBe('');
    expect(validation.stdout.trim()).toBe('valid');
    expect(document.openapi).toMatch(/^3\./);

    for (const route of ROUTES) {
      const path = route.path.split('?')[0]!.replace('/some-id', '/{id}').replace('/some-feed', '/{feedGuid}').replace(/\/1(\/|$)/, '/{id}$1');
      const operation = document.paths[path]?.[route.method.toLowerCase()];
      expect({ route: `${route.method} ${path}`, scope: operation?.['x-required-scope'] }).toEqual({ route: `${route.method} ${path}`, scope: route.scope });
      expect(operation.responses['401']).toEqual({ $ref: '#/components/responses/Error401' });
      expect(operation.responses['403']).toEqual({ $ref: '#/components/responses/Error403' });
    }
    const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`));
    // ROUTES lists the routes that need a scope; besides them: health, metrics and /v1/apps/me (any key).
    expect(documented).toHaveLength(ROUTES.length + 3);
    expect(documented).toEqual(expect.arrayContaining(['GET /health', 'GET /metrics', 'GET /v1/apps/me']));
    expect(document.components.schemas.Error.properties).toHaveProperty('error');
    expect(document.paths['/v1/events'].post.requestBody.content['application/json'].schema.properties.events.maxItems).toBe(500);
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
