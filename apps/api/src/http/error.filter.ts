import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

const FASTIFY_ERRORS: Record<string, { error: string; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { error: 'unsupported_media_type', message: 'send JSON: Content-Type must be application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { error: 'payload_too_large', message: 'the body is larger than the limit' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { error: 'invalid_json', message: 'the body is empty; send a JSON object' },
  FST_ERR_CTP_INVALID_JSON_BODY: { error: 'invalid_json', message: 'the body is not valid JSON' },
};

// Every error leaves as {error, message, issues?}; anything unexpected is a bare 500 without internals.
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      void reply.code(status).send(typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string' && 'message' in body
        ? body
        : { error: status === 404 ? 'not_found' : 'http_error', message: exception.message });
      return;
    }
    const fastifyError = exception as { code?: string; statusCode?: number };
    const known = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
    if (known || (fastifyError.statusCode && fastifyError.statusCode < 500)) {
      void reply.code(fastifyError.statusCode ?? 400).send(known ?? { error: 'bad_request', message: (exception as Error).message });
      return;
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    void reply.code(500).send({ error: 'internal_error', message: 'an unexpected error occurred' });
  }
}
