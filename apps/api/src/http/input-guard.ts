import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ErrorCode, type FieldIssue, sendError } from '@splitstream/errors';
import { formatPath } from '@splitstream/money';

// NUL cannot be stored in PostgreSQL text, and a lone surrogate is not Unicode: neither is ever valid input.
const storable = (text: string) => text.isWellFormed() && !text.includes('\u0000');
const MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';
// The headers the service reads.
const READ_HEADERS = ['authorization', 'content-type', 'x-request-id', 'accept'] as const;

// How deep a request may nest objects and arrays: real events are about six levels deep. Deeper input is refused
// before anything walks it recursively (a body nested thousands deep would overflow the stack).
export const MAX_NESTING_DEPTH = 32;
const MAX_ISSUES = 20;

class TooDeep extends Error {
  constructor(readonly path: string) {
    super(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
  }
}

// Recursive, at most MAX_NESTING_DEPTH deep (a container deeper stops the walk with TooDeep): issues come out in
// document order (a key before what it holds). `path` is one array, extended and cut back as the walk goes, and
// written out only for an issue: most requests have none, and a path per value was most of a large request's cost.
function findUnstorable(value: unknown, path: PropertyKey[], depth: number, issues: FieldIssue[]): void {
  if (issues.length >= MAX_ISSUES) return;
  if (typeof value === 'string') {
    if (!storable(value)) issues.push({ path: formatPath(path), message: MESSAGE });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_NESTING_DEPTH) throw new TooDeep(formatPath(path));
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && issues.length < MAX_ISSUES; i++) {
      path.push(i);
      findUnstorable(value[i], path, depth + 1, issues);
      path.pop();
    }
    return;
  }
  for (const key of Object.keys(value)) {
    if (issues.length >= MAX_ISSUES) return;
    path.push(key);
    if (!storable(key)) issues.push({ path: formatPath(path), message: `keys ${MESSAGE}` });
    findUnstorable((value as Record<string, unknown>)[key], path, depth + 1, issues);
    path.pop();
  }
}

// Every string the request carries that cannot be stored; throws AppError 400 when it nests too deep.
export function unstorableIssues(request: Pick<FastifyRequest, 'body' | 'query' | 'params' | 'headers'>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  try {
    findUnstorable(request.params, ['params'], 0, issues);
    findUnstorable(request.query, ['query'], 0, issues);
    for (const name of READ_HEADERS) findUnstorable(request.headers[name], ['headers', name], 0, issues);
    findUnstorable(request.body, [], 0, issues);
  } catch (error) {
    if (!(error instanceof TooDeep)) throw error;
    const where = error.path || '(body)';
    throw AppError.validation(
      [{ path: where, message: `nests objects and arrays deeper than ${MAX_NESTING_DEPTH} levels` }],
      `the request nests objects and arrays deeper than the limit of ${MAX_NESTING_DEPTH} levels; nothing was changed`,
    );
  }
  return issues;
}

// Every string a request carries (body, path, query, the headers read) is checked once, before any route sees it,
// and its nesting is bounded.
export function guardInput(fastify: FastifyInstance): void {
  fastify.addHook('preHandler', async (request, reply) => {
    try {
      const issues = unstorableIssues(request);
      if (issues.length) await sendError(reply, AppError.validation(issues, 'the request holds text that cannot be stored; nothing was changed'));
    } catch (error) {
      await sendError(reply, error);
    }
  });
}

// Errors Node's HTTP parser raises before any route (431 for headers over the limit, 400 for a garbled
// request), answered in the one error shape.
export function clientErrorHandler(error: Error & { code?: string }, socket: import('node:net').Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const headers = error.code === 'HPE_HEADER_OVERFLOW';
  const failure = headers
    ? new AppError(ErrorCode.HeadersTooLarge, 'the request headers are larger than the server accepts')
    : new AppError(ErrorCode.InvalidRequest, 'the request is not valid HTTP');
  const body = JSON.stringify(failure.body());
  socket.end(
    `HTTP/1.1 ${failure.status} ${headers ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
