// What Swagger UI's "Try it out" sends for one operation of an OpenAPI 3 document, before the reader edits
// anything: each parameter's first value of parameter example, schema example, schema default, parameter default
// (swagger-ui's ParameterRow), and the request body's media-type example.
interface Parameter {
  name: string;
  in: string;
  example?: unknown;
  default?: unknown;
  schema?: { example?: unknown; default?: unknown };
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { example?: unknown }> };
}

export interface TryItOut {
  path: string;
  query: URLSearchParams;
  body: unknown;
}

const prefill = (p: Parameter) => [p.example, p.schema?.example, p.schema?.default, p.default].find((v) => v !== undefined);

export function tryItOut(template: string, operation: Operation): TryItOut {
  const parameters = operation.parameters ?? [];
  const path = template.replace(/\{(\w+)\}/g, (_, name) => {
    const value = prefill(parameters.find((p) => p.in === 'path' && p.name === name)!);
    if (value === undefined) throw new Error(`${template}: Try it out leaves the path parameter ${name} empty`);
    return encodeURIComponent(String(value));
  });
  const query = new URLSearchParams();
  for (const p of parameters.filter((p) => p.in === 'query')) {
    const value = prefill(p);
    if (value !== undefined) query.append(p.name, String(value));
  }
  const media = operation.requestBody?.content['application/json'];
  // Without a media example Swagger UI builds a body from the schema: the document always gives one instead.
  if (media && media.example === undefined) throw new Error(`${template}: a request body without an example`);
  return { path, query, body: media?.example };
}
