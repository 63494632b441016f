import { RequestMethod, type Type } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { z } from 'zod';
import { ALL_SCOPES, PUBLIC_ROUTE, REQUIRED_SCOPE } from '@splitstream/auth';
import { documentFields } from './field-docs.js';
import { ROUTE_DOCS } from './route-docs.js';
import { errorResponse } from './schemas.js';

const jsonSchema = (schema: z.ZodType) =>
  documentFields(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>);
const joinPath = (...parts: string[]) =>
  `/${parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/')}`.replace(/:(\w+)/g, '{$1}');
const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request: nothing was changed',
  401: 'Missing, invalid or revoked API key',
  403: "The API key lacks the required scope, or names another app's data",
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Body over the 5 MB limit',
  415: 'Body is not application/json',
  422: 'The evidence offered does not prove the payment',
  429: 'Rate limited (rate_limited), or over a spend cap (app_day_cap_exceeded, app_month_cap_exceeded, listener_day_cap_exceeded); see Retry-After',
  431: 'Request headers over the limit',
  500: 'Unexpected error',
  503: 'A dependency does not answer',
};

// One tag per area, by the path's first segment after /v1.
const TAGS: Record<string, string> = {
  events: 'Listening events in: what apps send',
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
        const doc = ROUTE_DOCS[key];
        if (!doc) throw new Error(`OpenAPI: ${key} has no entry in ROUTE_DOCS`);
        const scope = Reflect.getMetadata(REQUIRED_SCOPE, handler) as string | undefined;
        const isPublic = Reflect.getMetadata(PUBLIC_ROUTE, handler) === true;
        const status = (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? (method === 'POST' ? 201 : 200);
        const errors = [...(isPublic ? [] : [401, 403]), ...doc.errors, 500].filter((code, i, all) => all.indexOf(code) === i);
        const parameters = [
          ...[...path.matchAll(/\{(\w+)\}/g)].map(([, param]) => ({
            name: param!,
            in: 'path',
            required: true,
            schema: documentFields({ type: 'string' }, param),
          })),
          ...(doc.query ? queryParameters(doc.query) : []),
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
          ...(doc.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body) } } } }),
          responses: {
            [status]: {
              description: 'OK',
              content: path === '/metrics' ? { 'text/plain': { schema: { type: 'string' } } } : { 'application/json': { schema: jsonSchema(doc.response) } },
            },
            ...(doc.accepted && {
              202: { description: 'Accepted: queued, not finished yet', content: { 'application/json': { schema: jsonSchema(doc.accepted) } } },
            }),
            ...Object.fromEntries(errors.map((code) => [code, { $ref: `#/components/responses/Error${code}` }])),
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

function queryParameters(shape: z.ZodRawShape) {
  const json = jsonSchema(z.strictObject(shape)) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}
