import type { INestApplication } from '@nestjs/common';
import { checkResponse } from './openapi-check.js';

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

// Real HTTP against a listening app (never an in-process inject), so the tests see what a client sees.
export async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return app.getUrl().then((url) => url.replace('[::1]', '127.0.0.1'));
}

export async function request<T = any>(baseUrl: string, path: string, init: RequestInit = {}): Promise<JsonResponse<T>> {
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the raw text is what the test gets
  }
  // Every answer of the api is one its OpenAPI document describes: else the test that asked fails here.
  checkResponse((init.method ?? 'GET').toUpperCase(), response.url, response.status, response.headers.get('content-type'), body);
  return { status: response.status, headers: response.headers, body };
}

// The api as one key sees it: GET (with extra headers, such as Accept) and JSON POST, the key in Authorization.
export function apiClient(baseUrl: string, key: string) {
  const authorization = `Bearer ${key}`;
  return {
    get: (path: string, headers: Record<string, string> = {}) => request(baseUrl, path, { headers: { authorization, ...headers } }),
    post: (path: string, body: unknown) =>
      request(baseUrl, path, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  };
}

// How long a spawned process (api, worker, simulator) may take to answer /health: a loaded 2-core machine can
// need tens of seconds to load Nest and the Prisma client.
export const PROCESS_BOOT_MS = 60_000;

export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await probe();
  }
  return last;
}
