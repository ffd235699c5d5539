import { Pool } from 'pg';

/** A pool whose idle-client errors (e.g. the server restarting) are logged instead of crashing the process. */
export function createPool(connectionString: string, max = 10, onError: (error: Error) => void = () => undefined): Pool {
  const pool = new Pool({ connectionString, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  pool.on('error', onError);
  return pool;
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
