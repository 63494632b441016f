import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '@splitstream/config';
import { ApiModule } from './api.module.js';

export async function createApi(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.register(config), new FastifyAdapter(), {
    abortOnError: false,
  });
  app.enableShutdownHooks();
  return app;
}
