import pg from 'pg';
import type { PrismaService } from '@splitstream/persistence';

// One payout run at a time across every worker: a PostgreSQL session advisory lock, held on a connection of
// its own for the whole run. If the process dies, PostgreSQL ends the session and frees the lock at once; if it
// hangs, the next run ends its session (see takeOver) once its heartbeat is stale.
const PAYOUT_LOCK_KEY = 7_629_169;

export class PayoutLock {
  private constructor(private readonly client: pg.Client) {}

  static async tryAcquire(databaseUrl: string): Promise<PayoutLock | undefined> {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [PAYOUT_LOCK_KEY]);
      if (rows[0]?.locked) return new PayoutLock(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    await client.end();
    return undefined;
  }

  // Ends the database session of whoever holds the lock (a run whose worker stopped beating), freeing it.
  static async takeOver(db: Pick<PrismaService, '$queryRaw'>): Promise<number> {
    const ended = await db.$queryRaw<{ pid: number }[]>`
      SELECT pid, pg_terminate_backend(pid) FROM pg_locks
      WHERE locktype = 'advisory' AND classid = 0 AND objid = ${PAYOUT_LOCK_KEY} AND objsubid = 1 AND granted`;
    return ended.length;
  }

  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
