import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AppError, codeForStatus, type ErrorBody, ErrorCode, errorBody, HTTP_STATUS } from './error-code.js';

// Fastify's own errors (body parsing, URL decoding), as Nest hands them over.
const FASTIFY_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [ErrorCode.UnsupportedMediaType, 'send JSON: Content-Type must be application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [ErrorCode.PayloadTooLarge, 'the body is larger than the 5 MB limit'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [ErrorCode.InvalidJson, 'the body is empty; send a JSON object'],
  FST_ERR_CTP_INVALID_JSON_BODY: [ErrorCode.InvalidJson, 'the body is not valid JSON'],
  FST_ERR_BAD_URL: [ErrorCode.InvalidRequest, 'the URL is not valid UTF-8'],
};

// PostgreSQL cannot be reached: the driver's connection errors, however deep Prisma wraps them.
const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|Connection terminated|connection error and is not queryable|connection.*(closed|refused|timeout)|closed the connection|timeout exceeded when trying to connect|Can't reach database|DatabaseNotReachable|SocketTimeout|57P0[123]|08006|08001|08003/i;
const RETRY_AFTER_SECONDS = 5;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown; kind?: unknown };
  if (e.name === 'PrismaClientInitializationError') return true;
  if (['P1001', 'P1002', 'P1017', 'P2024'].includes(String(e.code))) return true;
  const text = [e.code, e.kind, e.message].filter((v) => typeof v === 'string').join(' ');
  return UNREACHABLE.test(text) || isDatabaseUnavailable(e.cause, depth + 1);
}

// Terminus' health report when a check fails: {status: 'error', info, error: {name: ...}, details}.
const isHealthReport = (body: unknown): body is { status: 'error'; error: Record<string, unknown> } =>
  typeof body === 'object' && body !== null && (body as { status?: unknown }).status === 'error' && 'details' in body;

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  retryAfter?: number;
}

const logger = new Logger('HTTP');

// Any failure as the response it is answered with: {error: <code>, message, issues?}, 4xx and 5xx alike;
// anything unexpected is a bare 500 without internals (and logged). Used by the filter and by every hook that
// answers before a route runs.
export function errorResponse(exception: unknown): ErrorResponse {
  if (exception instanceof AppError) return { status: exception.status, body: exception.body(), retryAfter: exception.retryAfterSeconds };
  const cause = (exception as { cause?: { code?: string } } | null)?.cause ?? (exception as { code?: string } | null);
  const fastify = cause?.code ? FASTIFY_ERRORS[cause.code] : undefined;
  if (fastify) return { status: HTTP_STATUS[fastify[0]], body: errorBody(fastify[0], fastify[1]) };
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    if (isHealthReport(response)) {
      const down = Object.keys(response.error);
      const onlyWallet = down.length === 1 && down[0] === 'wallet';
      const message = onlyWallet ? 'the wallet refuses our credentials: nothing can be paid' : `${down.join(' and ')} cannot be reached`;
      const body = errorBody(ErrorCode.ServiceUnavailable, message, undefined, {
        ...response,
        status: onlyWallet ? 'degraded' : response.status,
        down: response.error,
      });
      return { status: exception.getStatus(), body, retryAfter: RETRY_AFTER_SECONDS };
    }
    return { status: exception.getStatus(), body: errorBody(codeForStatus(exception.getStatus()), exception.message) };
  }
  if (isDatabaseUnavailable(exception)) {
    logger.warn('PostgreSQL cannot be reached; answered 503');
    return { status: 503, body: errorBody(ErrorCode.ServiceUnavailable, 'the database cannot be reached; retry shortly'), retryAfter: RETRY_AFTER_SECONDS };
  }
  const status = (exception as { statusCode?: number } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: errorBody(codeForStatus(status), (exception as Error).message) };
  }
  logger.error(exception instanceof Error ? exception.stack : String(exception));
  return { status: 500, body: errorBody(ErrorCode.InternalError, 'an unexpected error occurred') };
}

// Answers a Fastify reply with the error, in the one shape (Retry-After when the error carries one).
export function sendError(reply: FastifyReply, exception: unknown): FastifyReply {
  const { status, body, retryAfter } = errorResponse(exception);
  if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

// The one place Nest hands errors over: answered by errorResponse.
@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    void sendError(host.switchToHttp().getResponse<FastifyReply>(), exception);
  }
}
