import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import pg from 'pg';

// A plain `pg` pool for the few hot statements that run many times a second (intake's group commit): raw SQL
// through Prisma pays its query compiler and result mapping on every call. Connects lazily, so a process that never
// runs such a statement opens no connection.
@Injectable()
export class SqlPool extends pg.Pool implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5_000, max: 4 });
    // An idle connection the server dropped (a restart) is discarded by the pool; without a listener it would crash.
    this.on('error', () => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.end();
  }
}
