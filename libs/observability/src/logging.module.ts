import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { FastifyServerOptions } from 'fastify';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';

// Structured JSON logs (pino) for the whole process. Secrets never reach a log line: credential headers are
// redacted (Fastify's request serializer leaves headers out anyway), and the wallet client never logs its token.
const pinoOptions = (config: AppConfig) => ({
  level: config.LOG_LEVEL,
  redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
});

// Request logging is Fastify's own (one line in, one line out, both with the request id): the request id is the
// caller's X-Request-Id when it sends a sane one, a fresh UUID otherwise, and is sent back in X-Request-Id.
export function fastifyLogging(config: AppConfig): Pick<FastifyServerOptions, 'logger' | 'requestIdHeader' | 'genReqId'> {
  return { logger: pinoOptions(config), requestIdHeader: false, genReqId: requestId };
}

function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
}

// Nest's own log lines (boot, services) through the same pino settings.
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ pinoHttp: pinoOptions(config), forRoutes: [] }),
    }),
  ],
})
export class LoggingModule {}
