import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { PrismaClient } from './generated/prisma/client.js';

// Every session of the service's: in UTC, so that the times PostgreSQL stamps (now(), column defaults) and UTC
// days (listening_day) mean what the code reads them as, whatever the server's own time zone; and no JIT
// compilation: the reads are short index walks whose plans can cost past jit_above_cost (compiling took 25-40 ms of
// a 50 ms statement query).
export const SESSION_OPTIONS = '-c TimeZone=UTC -c jit=off';

// Driver adapter (pg): no native query engine to download, and pg reconnects after a database outage.
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({ adapter: new PrismaPg({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5_000, options: SESSION_OPTIONS }) });
  }

  async onModuleInit(): Promise<void> {
    // Fails boot when the database is unreachable: a process that cannot persist must not accept work.
    await this.$queryRaw`SELECT 1`;
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
