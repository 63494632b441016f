import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { LoggerOptions } from 'pino';
import type { FastifyServerOptions } from 'fastify';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';

// Nest's boot chatter (a line per module initialized and per route mapped, some 55 a process): debug, not info.
const NEST_BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);
const INFO = 30;

// pino-pretty with outside text escaped (pretty-transport.ts), loaded by path in pino's worker thread: the built
// module beside this one.
export const PRETTY_TRANSPORT = fileURLToPath(new URL('./pretty-transport.js', import.meta.url));

export const prettyLogs = (config: AppConfig, stdout: { isTTY?: boolean } = process.stdout): boolean =>
  config.LOG_FORMAT === 'pretty' || (config.LOG_FORMAT === 'auto' && stdout.isTTY === true);

// Structured logs (pino) for the whole process: JSON lines, or pino-pretty's lines for a person at a terminal
// (LOG_FORMAT). Secrets never reach a log line: credential headers are redacted (Fastify's request serializer
// leaves headers out anyway), and the wallet client never logs its token.
export const pinoOptions = (config: AppConfig): LoggerOptions => ({
  level: config.LOG_LEVEL,
  redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  hooks: {
    logMethod(args, method, level) {
      const context = (args[0] as { context?: unknown } | undefined)?.context;
      if (level === INFO && typeof context === 'string' && NEST_BOOT_CONTEXTS.has(context)) {
        if (this.isLevelEnabled('debug')) this.debug(...(args as [object, string]));
        return;
      }
      method.apply(this, args);
    },
  },
  ...(prettyLogs(config) && {
    transport: {
      target: PRETTY_TRANSPORT,
      options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,context', singleLine: true },
    },
  }),
});

// A credential in a URL (an API key: `ss_` and 43 base64url characters; or a parameter named like one) is cut
// from the logged URL: such a request is refused, but its URL is logged as it comes in.
const CREDENTIAL_IN_URL = /((?<![A-Za-z0-9])ss_[A-Za-z0-9_-]{40,})|([?&](?:key|api_?key|api-key|access_token|token|auth|secret)=)[^&]*/gi;
export const redactUrl = (url: string): string =>
  url.replace(CREDENTIAL_IN_URL, (_match: string, key: string | undefined, param: string | undefined) => (key ? '[redacted]' : `${param}[redacted]`));

// Request logging is Fastify's own (one line in, one line out, both with the request id): the request id is the
// caller's X-Request-Id when it sends a sane one, a fresh UUID otherwise, and is sent back in X-Request-Id.
export function fastifyLogging(config: AppConfig): Pick<FastifyServerOptions, 'logger' | 'requestIdHeader' | 'genReqId'> {
  const req = (request: { method: string; url: string; host?: string; ip?: string }) => ({
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
  });
  return { logger: { ...pinoOptions(config), serializers: { req } }, requestIdHeader: false, genReqId: requestId };
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
