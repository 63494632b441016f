import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import pg from 'pg';
import { SESSION_OPTIONS } from './prisma.service.js';

// A plain `pg` pool for the few hot statements that run many times a second (intake's group commit): raw SQL
// through Prisma pays its query compiler and result mapping on every call. Connects lazily, so a process that never
// runs such a statement opens no connection.
@Injectable()
export class SqlPool extends pg.Pool implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5_000, max: 4, options: SESSION_OPTIONS });
    // A connection the server drops (a restart, an outage) fails the query that uses it, and is discarded by the
    // pool; without these listeners its error event would crash the process.
    this.on('error', () => undefined);
    this.on('connect', (client) => client.on('error', () => undefined));
  }

  async onModuleDestroy(): Promise<void> {
    await this.end();
  }
}
