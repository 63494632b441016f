import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import pg from 'pg';

// One holder at a time across every worker: a PostgreSQL session advisory lock, held on a connection of its own
// for as long as the work. If the process dies, PostgreSQL ends the session and frees the lock at once; if it
// hangs, the next holder ends its session (see takeOver) once it is known to be stale.
export const PAYOUT_LOCK = 7_629_169; // one payout run at a time
export const RECONCILE_LOCK = 7_629_170; // one reconciliation at a time: each unknown payment has one owner
export const LNADDRESS_LOCK = 7_629_171; // one Lightning-address resolution at a time: each domain called by one

const connect = async (databaseUrl: string): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
};

export class SessionLock {
  private constructor(private readonly client: pg.Client) {}

  static async tryAcquire(databaseUrl: string, key: number): Promise<SessionLock | undefined> {
    const client = await connect(databaseUrl);
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
      if (rows[0]?.locked) return new SessionLock(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    await client.end();
    return undefined;
  }

  // Ends the database session of whoever holds the lock (work whose worker stopped beating), freeing it.
  static async takeOver(databaseUrl: string, key: number): Promise<number> {
    const client = await connect(databaseUrl);
    try {
      const { rows } = await client.query(
        `SELECT pid, pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1 AND granted`,
        [key],
      );
      return rows.length;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

// The locks of this service's database, to take and to take over.
@Injectable()
export class Locks {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  tryAcquire(key: number): Promise<SessionLock | undefined> {
    return SessionLock.tryAcquire(this.config.DATABASE_URL, key);
  }

  takeOver(key: number): Promise<number> {
    return SessionLock.takeOver(this.config.DATABASE_URL, key);
  }
}
