import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedRequest {
  path: string;
  status: number;
  ifNoneMatch: string | undefined;
  authorization: string | undefined;
}

// Podcast Index credentials the stand-in checks (X-Auth-Key, X-Auth-Date, Authorization = sha1(key + secret + date)).
export const INDEX_KEY = 'TESTINDEXKEY';
export const INDEX_SECRET = 'test-index-secret';

// A Podcast Index value answer, as the API gives it (status, query, value with model and destinations).
export const indexAnswer = (query: object, destinations: object[] | null) => ({
  status: 'true',
  query,
  value: destinations && { model: { type: 'lightning', method: 'keysend', suggested: '0.00000005000' }, destinations },
  description: destinations ? 'Found matching value block.' : 'No value block found.',
});

// Feeds over real HTTP on 127.0.0.1, with ETags (a matching If-None-Match is a 304), and a Podcast Index stand-in
// under /api/1.0/value/...: a path's content can be changed, taken down (503) and put back while a test runs, or
// stalled (never answered), and every request is recorded (a stalled one with status 0).
export async function startFeedServer() {
  const content = new Map<string, string>(); // path (with query, for the index) -> body
  const down = new Set<string>();
  const stalled = new Set<string>(); // paths whose requests are never answered (until the server closes)
  const held: ServerResponse[] = [];
  const requests: ServedRequest[] = [];
  let base = '';
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = req.url ?? '/';
    const record = (status: number) =>
      requests.push({ path, status, ifNoneMatch: req.headers['if-none-match'] as string | undefined, authorization: req.headers.authorization });
    if (path.startsWith('/api/1.0/') && !indexSigned(req)) {
      record(401);
      return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"status":"false","description":"Authorization failed"}');
    }
    if (stalled.has(path)) {
      record(0);
      return void held.push(res);
    }
    const body = content.get(path);
    if (body === undefined || down.has(path)) {
      const status = down.has(path) ? 503 : 404;
      record(status);
      return void res.writeHead(status).end();
    }
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) {
      record(304);
      return void res.writeHead(304, { etag }).end();
    }
    record(200);
    res.writeHead(200, { etag, 'content-type': path.startsWith('/api/') ? 'application/json' : 'application/rss+xml' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    indexUrl: `${base}/api/1.0`,
    requests,
    // A fixture of test/fixtures/byref, its {{BASE}} (and other {{NAME}}s) filled in.
    serveFixture(path: string, fixture: string, values: Record<string, string> = {}) {
      let text = readFileSync(new URL(`../fixtures/byref/${fixture}`, import.meta.url), 'utf8');
      for (const [name, value] of Object.entries({ BASE: base, ...values })) text = text.replaceAll(`{{${name}}}`, value);
      content.set(path, text);
      return text;
    },
    serve(path: string, body: string | object) {
      content.set(path, typeof body === 'string' ? body : JSON.stringify(body));
    },
    takeDown: (path: string) => void down.add(path),
    stall: (path: string) => void stalled.add(path),
    bringBack: (path: string) => void down.delete(path),
    of: (path: string) => requests.filter((r) => r.path === path),
    close: () => {
      for (const res of held) res.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function indexSigned(req: IncomingMessage): boolean {
  const date = req.headers['x-auth-date'];
  if (req.headers['x-auth-key'] !== INDEX_KEY || typeof date !== 'string') return false;
  return (
    req.headers.authorization ===
    createHash('sha1')
      .update(INDEX_KEY + INDEX_SECRET + date)
      .digest('hex')
  );
}

export type FeedServer = Awaited<ReturnType<typeof startFeedServer>>;
