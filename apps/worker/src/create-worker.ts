import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '@splitstream/config';
import { Logger } from 'nestjs-pino';
import { fastifyLogging } from '@splitstream/observability';
import { WorkerModule } from './worker.module.js';

// The worker's only HTTP surface is its health route.
export async function createWorker(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(WorkerModule.register(config), new FastifyAdapter(fastifyLogging(config)), {
    abortOnError: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  return app;
}
