import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { HealthController } from '@splitstream/health';
import { API_CONTROLLERS } from '../../apps/api/src/api.module.js';
import { buildOpenApiDocument } from '../../apps/api/src/openapi/openapi-document.js';

type Schema = Record<string, any>;
interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  literals: number;
}

// The document the api serves, built by the same builder once per test file; each response schema is compiled
// the first time a response needs it.
let built: { document: Schema; routes: Route[] } | undefined;
const compiled = new Map<string, ValidateFunction>();
const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS: its module is the plugin, typed as the module's default.
ajvFormats.default(ajv);

function documentAndRoutes() {
  if (built) return built;
  const document = buildOpenApiDocument([...API_CONTROLLERS, HealthController]).document as Schema;
  const routes = Object.entries<Schema>(document.paths).flatMap(([template, operations]) =>
    Object.keys(operations).map((method) => ({
      method: method.toUpperCase(),
      template,
      pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
      literals: template.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
    })),
  );
  // /v1/recipients/top before /v1/recipients/{id}: the route with more fixed segments wins, as in the router.
  routes.sort((a, b) => b.literals - a.literals);
  built = { document, routes };
  return built;
}

// Inlines local $refs, and closes every object: a field the api sends that the document does not name is a mismatch.
function strict(schema: unknown, document: Schema): unknown {
  if (Array.isArray(schema)) return schema.map((item) => strict(item, document));
  if (!schema || typeof schema !== 'object') return schema;
  const node = schema as Schema;
  if (typeof node.$ref === 'string') {
    const target = node.$ref
      .slice(2)
      .split('/')
      .reduce((at: Schema, key: string) => at[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
    return strict(target, document);
  }
  const copy: Schema = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === 'example' ? value : strict(value, document)]));
  if (copy.type === 'object' && copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

// Checks one response of the api against the document: its method + route template + status must be documented,
// and a JSON body must match that response's schema. Paths the document does not name (the simulator's, unknown
// routes) and bodies that are not JSON (CSV, HTML, metrics) are not checked. Throws a message naming the route.
export function checkResponse(method: string, url: string, status: number, contentType: string | null, body: unknown): void {
  const { document, routes } = documentAndRoutes();
  const path = new URL(url).pathname;
  const route = routes.find((r) => r.method === method && r.pattern.test(path));
  if (!route || !contentType?.includes('application/json')) return;
  const where = `${method} ${route.template} ${status}`;
  let validate = compiled.get(where);
  if (!validate) {
    const response = strict(document.paths[route.template][method.toLowerCase()].responses[String(status)], document) as Schema | undefined;
    if (!response) throw new Error(`OpenAPI: ${method} ${path} answered ${status}, a status the document does not list for ${method} ${route.template}`);
    const schema = response.content?.['application/json']?.schema;
    if (!schema) throw new Error(`OpenAPI: ${where} answered JSON, but the document gives it no JSON schema`);
    validate = ajv.compile(schema as Schema);
    compiled.set(where, validate);
  }
  if (!validate(body)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
    throw new Error(
      `OpenAPI: the response to ${method} ${path} (${where}) does not match its schema:\n  ${problems.join('\n  ')}\nbody: ${JSON.stringify(body).slice(0, 2000)}`,
    );
  }
}
