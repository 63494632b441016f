import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppConfig, nestLogLevels } from '@splitstream/config';
import { ApiModule } from './api.module.js';

// 500 events with value blocks of up to 100 recipients each fit comfortably.
export const BODY_LIMIT_BYTES = 5 * 1024 * 1024;

export async function createApi(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.register(config), new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }), {
    abortOnError: false,
    logger: nestLogLevels(config),
  });
  app.enableShutdownHooks();
  return app;
}
