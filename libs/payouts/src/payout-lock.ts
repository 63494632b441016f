import pg from 'pg';

// One payout run at a time across every worker: a PostgreSQL session advisory lock, held on a connection of
// its own for the whole run. If the process dies, PostgreSQL ends the session and frees the lock at once.
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

  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
