import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { PrismaClient } from './generated/prisma/client.js';

// Driver adapter (pg): no native query engine to download, and pg reconnects after a database outage.
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({ adapter: new PrismaPg({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5_000 }) });
  }

  async onModuleInit(): Promise<void> {
    // Fails boot when the database is unreachable: a process that cannot persist must not accept work.
    await this.$queryRaw`SELECT 1`;
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
