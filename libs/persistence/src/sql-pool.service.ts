import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import pg from 'pg';
import { SESSION_OPTIONS } from './prisma.service.js';

// A plain `pg` pool for the few hot statements that run many times a second (intake's group commit): raw SQL
// through Prisma pays its query compiler and result mapping on every call. Connects lazily, so a process that never
// runs such a statement opens no connection.
// Connections of a process's plain pool: as many intake groups (or worker apply transactions) at once.
export const SQL_POOL_SIZE = 4;

@Injectable()
export class SqlPool extends pg.Pool implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5_000, max: SQL_POOL_SIZE, options: SESSION_OPTIONS });
    // A connection the server drops (a restart, an outage) fails the query that uses it, and is discarded by the
    // pool; without these listeners its error event would crash the process.
    this.on('error', () => undefined);
    this.on('connect', (client) => client.on('error', () => undefined));
  }

  async onModuleDestroy(): Promise<void> {
    await this.end();
  }
}

// What runs a statement with positional parameters and gives its rows as `pg` does (int8 as text): a `pg` client,
// or in tests, a Prisma transaction adapted to it.
export interface SqlClient {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

// Runs `work` on a connection of `pool`, released when it returns; when it throws, the connection is discarded with
// whatever state it was left in (a transaction half done, a statement still running).
export async function onConnection<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const value = await work(client);
    client.release();
    return value;
  } catch (error) {
    client.release(true);
    throw error;
  }
}

// Runs `work` in one READ COMMITTED transaction (whatever the server's default) on `client`, and COMMITs when it
// returns. When it (or the COMMIT) throws, the transaction is left as it is: the caller drops the connection
// (onConnection does). `statementTimeoutMs` bounds each statement and each wait between two, so a transaction
// stuck behind a lock, or in its process, gives up instead of holding its own locks for ever.
export async function transactionOn<T>(
  client: pg.ClientBase,
  work: () => Promise<T>,
  { statementTimeoutMs }: { statementTimeoutMs?: number } = {},
): Promise<T> {
  // One round trip: a simple query may hold several statements.
  const begin = 'BEGIN ISOLATION LEVEL READ COMMITTED';
  const bound = Math.trunc(statementTimeoutMs ?? 0);
  await client.query(bound > 0 ? `${begin}; SET LOCAL statement_timeout = ${bound}; SET LOCAL idle_in_transaction_session_timeout = ${bound}` : begin);
  const value = await work();
  await client.query('COMMIT');
  return value;
}

// transactionOn a connection of `pool`: committed when `work` returns; on a throw, nothing is kept and the
// connection is dropped.
export const inTransaction = <T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, options: { statementTimeoutMs?: number } = {}): Promise<T> =>
  onConnection(pool, (client) => transactionOn(client, () => work(client), options));
