import { Pool, type PoolClient } from 'pg';

/** Where a query can run: the pool, or one client inside a caller's transaction. */
export type Queryable = Pool | PoolClient;

/** A pool whose idle-client errors (e.g. the server restarting) are logged instead of crashing the process. */
export function createPool(connectionString: string, max = 10, onError: (error: Error) => void = () => undefined): Pool {
  const pool = new Pool({ connectionString, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  pool.on('error', onError);
  // A connection that drops while checked out (a server restart mid-transaction) emits 'error' on its client,
  // which would crash the process without a listener; the query in progress fails on its own.
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/** The URL with its password masked, for messages and logs. */
export function redactedUrl(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}

/** True when a trivial query answers within the pool's connection timeout. */
export async function databaseReachable(pool: Pool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** Runs `fn` on one client inside BEGIN ... COMMIT; any error rolls the transaction back and is rethrown. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
