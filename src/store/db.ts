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

/** PostgreSQL takes at most 65,535 parameters per statement. */
const MAX_PARAMETERS = 65_535;

/**
 * Inserts `rows` (one value per column, all rows the same width) with as few statements as the parameter limit
 * allows: `${head} VALUES (...), (...) ${tail}`, in order. Nothing is sent for no rows.
 */
export async function insertRows(db: Queryable, head: string, rows: readonly (readonly unknown[])[], tail = ''): Promise<void> {
  const width = rows[0]?.length ?? 0;
  if (width === 0) return;
  const perStatement = Math.floor(MAX_PARAMETERS / width);
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const tuples = chunk.map((_, row) => `(${Array.from({ length: width }, (_, column) => `$${row * width + column + 1}`).join(', ')})`);
    await db.query(`${head} VALUES ${tuples.join(', ')} ${tail}`, chunk.flat());
  }
}
