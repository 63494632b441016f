import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppConfig, nestLogLevels } from '@splitstream/config';
import { WorkerModule } from './worker.module.js';

// The worker's only HTTP surface is its health route.
export async function createWorker(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(WorkerModule.register(config), new FastifyAdapter(), {
    abortOnError: false,
    logger: nestLogLevels(config),
  });
  app.enableShutdownHooks();
  return app;
}
