import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { ErrorCode, errorBody } from '@splitstream/errors';
import { MetricsService } from '@splitstream/observability';

export const METRICS_PORT_SETTING = Symbol('METRICS_PORT_SETTING');
export type MetricsPortSetting = 'METRICS_PORT' | 'WORKER_METRICS_PORT';

// Prometheus scrape endpoint (the series are libs/observability's registry) on a listener of its own, never on the
// public api or worker port: GET /metrics on METRICS_HOST and the process's port setting (the api's METRICS_PORT,
// the worker's WORKER_METRICS_PORT); 0 turns it off. Unauthenticated: expose it to the monitoring network only.
// What it answers besides the metrics: the one error shape, as every other route of the service.
const answerError = (response: ServerResponse, status: number, code: ErrorCode, message: string) =>
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(errorBody(code, message)));

@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(METRICS_PORT_SETTING) private readonly setting: MetricsPortSetting,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config[this.setting];
    if (port === 0) return;
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
        return void answerError(response, 404, ErrorCode.NotFound, 'this listener serves GET /metrics only');
      }
      this.metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
        (error: Error) => {
          this.logger.error(`metrics scrape: ${error.message}`);
          answerError(response, 500, ErrorCode.InternalError, 'the metrics could not be collected');
        },
      );
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.METRICS_HOST, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: Error) => {
      throw new Error(`${this.setting}: cannot listen on ${this.config.METRICS_HOST}:${port} for /metrics: ${error.message}`);
    });
    this.server = server;
  }

  // Where /metrics is served (http://host:port), or undefined when turned off.
  url(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
