import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ErrorCode, type FieldIssue } from '@splitstream/errors';
import { formatPath } from '@splitstream/money';

// NUL cannot be stored in PostgreSQL text, and a lone surrogate is not Unicode: neither is ever valid input.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';
// The headers the service reads.
const READ_HEADERS = ['authorization', 'content-type', 'x-request-id', 'accept'] as const;

function findUnstorable(value: unknown, path: PropertyKey[], issues: FieldIssue[]): void {
  if (issues.length >= 20) return;
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value)) issues.push({ path: formatPath(path), message: MESSAGE });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => findUnstorable(item, [...path, i], issues));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) issues.push({ path: formatPath([...path, key]), message: `keys ${MESSAGE}` });
      findUnstorable(item, [...path, key], issues);
    }
  }
}

export function unstorableIssues(request: Pick<FastifyRequest, 'body' | 'query' | 'params' | 'headers'>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  findUnstorable(request.params, ['params'], issues);
  findUnstorable(request.query, ['query'], issues);
  for (const name of READ_HEADERS) findUnstorable(request.headers[name], ['headers', name], issues);
  findUnstorable(request.body, [], issues);
  return issues;
}

const send = (reply: FastifyReply, error: AppError) => reply.code(error.status).send(error.body());

// Every string a request carries (body, path, query, the headers read) is checked once, before any route sees it.
export function guardInput(fastify: FastifyInstance): void {
  fastify.addHook('preHandler', async (request, reply) => {
    const issues = unstorableIssues(request);
    if (issues.length) await send(reply, AppError.validation(issues, 'the request holds text that cannot be stored; nothing was changed'));
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
