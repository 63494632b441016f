import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

// Fastify's body-parsing errors, as Nest hands them over (the Fastify error is the exception's cause).
const FASTIFY_ERRORS: Record<string, { error: string; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { error: 'unsupported_media_type', message: 'send JSON: Content-Type must be application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { error: 'payload_too_large', message: 'the body is larger than the 5 MB limit' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { error: 'invalid_json', message: 'the body is empty; send a JSON object' },
  FST_ERR_CTP_INVALID_JSON_BODY: { error: 'invalid_json', message: 'the body is not valid JSON' },
};

// Nest's own exceptions carry {statusCode, message, error}; ours and Terminus' health report carry their shape.
const isNestDefault = (body: unknown): boolean =>
  typeof body === 'string' || (typeof body === 'object' && body !== null && 'statusCode' in body);

// Every error leaves as {error, message, issues?}; anything unexpected is a bare 500 without internals.
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const cause = (exception as { cause?: { code?: string } }).cause ?? (exception as { code?: string });
    const fastify = cause?.code ? FASTIFY_ERRORS[cause.code] : undefined;
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      void reply
        .code(exception.getStatus())
        .send(
          isNestDefault(body)
            ? (fastify ?? { error: exception.getStatus() === 404 ? 'not_found' : 'bad_request', message: exception.message })
            : body,
        );
      return;
    }
    const status = (exception as { statusCode?: number }).statusCode;
    if (status && status < 500) {
      void reply.code(status).send(fastify ?? { error: 'bad_request', message: (exception as Error).message });
      return;
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    void reply.code(500).send({ error: 'internal_error', message: 'an unexpected error occurred' });
  }
}
