import { randomUUID } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { createPool } from '../../src/store/db';
import { migrate } from '../../src/store/migrate';
import { sharedTestState } from './shared-state';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: sharedTestState().adminDatabaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database on the shared embedded server, migrated unless told otherwise. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomUUID().replace(/-/g, '')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = sharedTestState().adminDatabaseUrl.replace(/\/[^/]*$/, `/${name}`);
  const pool = createPool(url, 5);
  if (options.migrated !== false) await migrate(pool);
  return {
    url,
    pool,
    drop: async () => {
      await pool.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
