import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ErrorCode, type FieldIssue, sendError } from '@splitstream/errors';
import { formatPath } from '@splitstream/money';

// NUL cannot be stored in PostgreSQL text, and a lone surrogate is not Unicode: neither is ever valid input.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
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

interface Frame {
  value: unknown;
  parent: Frame | undefined;
  step: PropertyKey | undefined; // where this value is in its parent (none for the root)
  depth: number; // containers around this value
  key?: string; // an object key to check before the value
}

// A frame's path, worked out only for an issue: most requests have none, and a path per value would be most of
// the walk's cost on a large request.
function pathOf(frame: Frame, rootPath: PropertyKey[]): string {
  const steps: PropertyKey[] = [];
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) steps.push(f.step!);
  return formatPath([...rootPath, ...steps.reverse()]);
}

// Iterative, with an explicit stack: issues come out in document order (a key before what it holds), and a
// container nested deeper than MAX_NESTING_DEPTH stops the walk with TooDeep.
function findUnstorable(root: unknown, rootPath: PropertyKey[], issues: FieldIssue[]): void {
  const stack: Frame[] = [{ value: root, parent: undefined, step: undefined, depth: 0 }];
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const frame = stack.pop()!;
    const { value, depth, key } = frame;
    if (key !== undefined && UNSTORABLE.test(key)) {
      issues.push({ path: pathOf(frame, rootPath), message: `keys ${MESSAGE}` });
      if (issues.length >= MAX_ISSUES) return;
    }
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) issues.push({ path: pathOf(frame, rootPath), message: MESSAGE });
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_NESTING_DEPTH) throw new TooDeep(pathOf(frame, rootPath));
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], parent: frame, step: i, depth: depth + 1 });
    } else {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        stack.push({ value: (value as Record<string, unknown>)[k], parent: frame, step: k, depth: depth + 1, key: k });
      }
    }
  }
}

// Every string the request carries that cannot be stored; throws AppError 400 when it nests too deep.
export function unstorableIssues(request: Pick<FastifyRequest, 'body' | 'query' | 'params' | 'headers'>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  try {
    findUnstorable(request.params, ['params'], issues);
    findUnstorable(request.query, ['query'], issues);
    for (const name of READ_HEADERS) findUnstorable(request.headers[name], ['headers', name], issues);
    findUnstorable(request.body, [], issues);
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
