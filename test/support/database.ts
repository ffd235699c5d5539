import { randomBytes, randomUUID } from 'node:crypto';
import { Client, type Pool } from 'pg';
import pino from 'pino';
import { createPool } from '../../src/store/db';
import { ensureApplicationRole } from '../../src/store/roles';
import { openServiceDatabase } from '../../src/store/service-database';
import { sharedTestState } from './shared-state';

export interface TestDatabase {
  /** The application role's URL: what the service's pools connect as (least privilege). */
  url: string;
  /** Connected as the application role, like the service: suites exercise least privilege throughout. */
  pool: Pool;
  /** The application role's name (cluster-wide, one per test database). */
  appRole: string;
  /** The superuser's URL of the same database: the schema owner, and the attacker of the tamper tests. */
  ownerUrl: string;
  ownerPool: Pool;
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

function withCredentials(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  return parsed.toString();
}

/**
 * A fresh database on the shared embedded server with its own application role. Migrated (as the superuser) and
 * granted the way every entry point does it (openServiceDatabase) unless told otherwise; then `pool` has no
 * privileges yet and `ownerPool` migrates.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomUUID().replace(/-/g, '')}`;
  const appRole = `${name}_app`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const ownerUrl = sharedTestState().adminDatabaseUrl.replace(/\/[^/]*$/, `/${name}`);
  const ownerPool = createPool(ownerUrl, 3);
  const password = randomBytes(24).toString('hex');
  await ensureApplicationRole(ownerPool, appRole, password);
  const url = withCredentials(ownerUrl, appRole, password);
  const pool =
    options.migrated === false
      ? createPool(url, 5)
      : await openServiceDatabase({ url, ownerUrl, poolSize: 5, logger: pino({ level: 'silent' }) });
  return {
    url,
    pool,
    appRole,
    ownerUrl,
    ownerPool,
    drop: async () => {
      await Promise.all([pool.end(), ownerPool.end()]);
      await admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${appRole}`);
      });
    },
  };
}
