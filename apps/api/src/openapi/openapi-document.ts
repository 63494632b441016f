import { RequestMethod, type Type } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { z } from 'zod';
import { ALL_SCOPES, PUBLIC_ROUTE, REQUIRED_SCOPE } from '@splitstream/auth';
import { documentFields } from './field-docs.js';
import { ROUTE_EXAMPLES, type RouteExample } from './examples.js';
import { ROUTE_DOCS, type RouteDoc } from './route-docs.js';
import { errorResponse } from './schemas.js';

// `area` (a route's first segment after /v1, as "events") names the root object for documentFields.
const jsonSchema = (schema: z.ZodType, area?: string) =>
  documentFields(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>, undefined, area);
const joinPath = (...parts: string[]) =>
  `/${parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/')}`.replace(/:(\w+)/g, '{$1}');
const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request: nothing was changed (POST /v1/events: events_rejected when none of its events was stored, issues naming each with its code)',
  401: 'Missing, invalid or revoked API key',
  403: "The API key lacks the required scope, or names another app's data",
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Body over the 5 MB limit',
  415: 'Body is not application/json',
  422: 'The evidence offered does not prove the payment',
  429: 'Rate limited (rate_limited); see Retry-After',
  431: 'Request headers over the limit',
  500: 'Unexpected error',
  503: 'A dependency does not answer (PostgreSQL; Redis for work that is queued); see Retry-After',
};

// One tag per area, by the path's first segment after /v1.
const TAGS: Record<string, string> = {
  events: 'Listening events in: what apps send',
  boosts: 'Boosts: one-off payments with a message, paid at once',
  payouts: 'Payout runs and the money they paid',
  payments: 'Single payments (keysends and invoice payments): lists, verdicts on unknown outcomes, reconciliation; /v1/keysends is an alias',
  recipients: 'Recipients: amounts, retry state, parking, creator statements',
  feeds: 'Shows: per-recipient totals',
  ledger: 'The books: totals and the invariant check',
  apps: 'The calling app: scopes and spend caps',
  operations: 'Health and metrics for operators',
};
const tagOf = (path: string) => {
  const area = /^\/v1\/([a-z]+)/.exec(path)?.[1];
  return area === undefined ? 'operations' : area === 'summary' ? 'ledger' : area === 'keysends' ? 'payments' : area;
};

export interface DocumentedRoute {
  method: string;
  path: string;
}

// OpenAPI 3 from the controllers' own metadata: every mapped route, its scope and status code, and the zod
// schemas the code validates with.
export function buildOpenApiDocument(controllers: Type[]): { document: Record<string, unknown>; routes: DocumentedRoute[] } {
  const paths: Record<string, Record<string, unknown>> = {};
  const routes: DocumentedRoute[] = [];
  for (const controller of controllers) {
    // A controller's first path is its name; any others are documented aliases of it (deprecated).
    const [primary, ...aliases] = [Reflect.getMetadata(PATH_METADATA, controller) as string | string[]].flat();
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = controller.prototype[name];
      if (name === 'constructor' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
      for (const base of [primary!, ...aliases]) {
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const sub = Reflect.getMetadata(PATH_METADATA, handler) as string;
        const path = joinPath(base, sub);
        const key = `${method} ${joinPath(primary!, sub)}`;
        const area = /^\/v1\/([a-z]+)/.exec(joinPath(primary!))?.[1];
        const doc = ROUTE_DOCS[key];
        if (!doc) throw new Error(`OpenAPI: ${key} has no entry in ROUTE_DOCS`);
        const scope = Reflect.getMetadata(REQUIRED_SCOPE, handler) as string | undefined;
        const isPublic = Reflect.getMetadata(PUBLIC_ROUTE, handler) === true;
        const status = (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? (method === 'POST' ? 201 : 200);
        // Any route answers 400 to a query parameter it does not take (or a NUL anywhere), 431 to oversized
        // headers, 500 on a bug and 503 while PostgreSQL (or Redis, for queued work) does not answer; any POST
        // 413 and 415 to a body over the limit or not JSON.
        const anyRoute = [400, ...(isPublic ? [] : [401, 403]), ...(method === 'POST' ? [413, 415] : []), 431];
        const errors = [...anyRoute, ...doc.errors, ...Object.keys(doc.errorBodies ?? {}).map(Number), 500, 503].filter(
          (code, i, all) => all.indexOf(code) === i,
        );
        // Aliases carry no examples: each example is sent once, to the route's own path (test/e2e/openapi-examples).
        const example = base === primary ? exampleOf(key, doc) : undefined;
        const parameters = [
          ...[...path.matchAll(/\{(\w+)\}/g)].map(([, param]) => ({
            name: param!,
            in: 'path',
            required: true,
            schema: documentFields({ type: 'string' }, param, area),
            ...(example && { example: example.params?.[param!] }),
          })),
          ...(doc.query ? queryParameters(doc.query, area, example?.query) : []),
        ];
        routes.push({ method, path });
        paths[path] ??= {};
        paths[path][method.toLowerCase()] = {
          summary: base === primary ? doc.summary : `${doc.summary} (alias of ${key})`,
          ...(base !== primary && { deprecated: true }),
          tags: [tagOf(path)],
          ...(scope && { description: `Requires the scope \`${scope}\`.`, 'x-required-scope': scope, security: [{ apiKey: [scope] }] }),
          ...(isPublic && { security: [] }),
          ...(parameters.length && { parameters }),
          ...(doc.body && {
            requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body, area), ...(example && { example: example.body }) } } },
          }),
          responses: {
            [status]: {
              description: status === 202 ? 'Accepted: stored; the work it starts finishes in the background' : 'OK',
              content:
                path === '/metrics' ? { 'text/plain': { schema: { type: 'string' } } } : { 'application/json': { schema: jsonSchema(doc.response, area) } },
            },
            ...(doc.accepted && {
              202: { description: 'Accepted: queued, not finished yet', content: { 'application/json': { schema: jsonSchema(doc.accepted, area) } } },
            }),
            ...Object.fromEntries(
              errors.map((code) => {
                const body = doc.errorBodies?.[code];
                const described = { description: ERROR_TEXT[code], content: { 'application/json': { schema: body && jsonSchema(body, area) } } };
                return [code, body ? described : { $ref: `#/components/responses/Error${code}` }];
              }),
            ),
          },
        };
      }
    }
  }
  const document = {
    openapi: '3.0.3',
    info: { title: 'splitstream', version: '0.1.0', description: 'Value-for-value streaming payments: listening events in, Lightning keysend payouts out.' },
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: `An API key (npm run cli -- keys create). Scopes: ${ALL_SCOPES.join(', ')}.` },
      },
      schemas: { Error: jsonSchema(errorResponse) },
      responses: Object.fromEntries(
        Object.entries(ERROR_TEXT).map(([code, text]) => [
          `Error${code}`,
          { description: text, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
    },
  };
  return { document, routes };
}

// Swagger UI's "Try it out" sends every parameter that has an example (the parameter's or its schema's): an
// optional filter carries one only when the route's example sends it; the others show theirs in the description,
// so a reader sees the format and Try it out does not filter by made-up values.
function queryParameters(shape: z.ZodRawShape, area?: string, example?: RouteExample['query']) {
  const json = jsonSchema(z.strictObject(shape), area) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const required = json.required?.includes(name) ?? false;
    const { example: shown, ...schema } = property;
    const keep = required || example?.[name] !== undefined;
    return {
      name,
      in: 'query',
      required,
      ...(!keep && shown !== undefined && { description: `For example: ${JSON.stringify(shown)}` }),
      schema: keep ? property : schema,
      ...(example?.[name] !== undefined && { example: example[name] }),
    };
  });
}

// A route's request example, checked against the schemas the code validates with: an example the api would refuse
// stops the document being built.
function exampleOf(key: string, doc: RouteDoc): RouteExample {
  const example = ROUTE_EXAMPLES[key];
  if (!example) throw new Error(`OpenAPI: ${key} has no entry in ROUTE_EXAMPLES`);
  const params = [...key.matchAll(/\{(\w+)\}/g)].map(([, param]) => param!);
  const problems = [
    ...params.filter((param) => example.params?.[param] === undefined).map((param) => `no path parameter ${param}`),
    ...(doc.body?.safeParse(example.body).error?.issues.map((issue) => `a body the api refuses: ${issue.path.join('.')} ${issue.message}`) ?? []),
    ...(example.body !== undefined && !doc.body ? ['a body for a route that takes none'] : []),
    ...(example.query && !z.strictObject(doc.query ?? {}).safeParse(example.query).success ? ['a query the api refuses'] : []),
  ];
  if (problems.length) throw new Error(`OpenAPI: the example of ${key} has ${problems.join('; ')}`);
  return example;
}
