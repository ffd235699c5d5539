/**
 * How every entry point (npm start, the worker, the API) gets its database: migrate as the schema owner, grant
 * the service's role what it needs, then hand out a pool that connects as that role. Without an owner URL the
 * service's role migrates itself, and a role powerful enough to rewrite the audit trail is reported once.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { createPool } from './db';
import { migrate, type MigrationResult } from './migrate';
import { auditRewriteRisks, grantServicePrivileges } from './roles';

const INSUFFICIENT_PRIVILEGE = '42501';

export interface ServiceDatabaseOptions {
  /** What the service's pool connects as: the least-privilege application role. */
  url: string;
  /** The schema owner, which migrates and grants; undefined: `url`'s role migrates. */
  ownerUrl: string | undefined;
  poolSize: number;
  logger: Logger;
}

/** Migrates, grants and checks; returns the service's pool (the caller ends it). */
export async function openServiceDatabase(options: ServiceDatabaseOptions): Promise<Pool> {
  const { logger } = options;
  const pool = createPool(options.url, options.poolSize, (error) => logger.warn(`idle database client error: ${error.message}`));
  try {
    const migrations = options.ownerUrl ? await migrateAsOwner(options.ownerUrl, pool) : await migrateAsServiceRole(pool);
    if (migrations.applied.length > 0) logger.info({ applied: migrations.applied }, 'migrations applied');
    const risks = await auditRewriteRisks(pool);
    if (risks.reasons.length > 0) {
      logger.warn(
        { role: risks.role, reasons: risks.reasons },
        `The database role ${risks.role} could rewrite the audit trail (${risks.reasons.join('; ')}). ` +
          'Let DATABASE_URL name a role without those powers and DATABASE_OWNER_URL the schema owner, which migrates and grants it what it needs.',
      );
    }
    return pool;
  } catch (error) {
    await pool.end();
    throw error;
  }
}

async function migrateAsOwner(ownerUrl: string, servicePool: Pool): Promise<MigrationResult> {
  const owner = createPool(ownerUrl, 1);
  try {
    const result = await migrate(owner);
    const { rows } = await servicePool.query<{ role: string }>('SELECT current_user AS role');
    await grantServicePrivileges(owner, rows[0]?.role ?? '');
    return result;
  } finally {
    await owner.end();
  }
}

async function migrateAsServiceRole(pool: Pool): Promise<MigrationResult> {
  try {
    return await migrate(pool);
  } catch (error) {
    // A failed migration carries PostgreSQL's error as its cause; creating the migration registry fails directly.
    const failure = error as { code?: string; cause?: { code?: string } };
    if ((failure.code ?? failure.cause?.code) === INSUFFICIENT_PRIVILEGE) {
      throw new Error(
        `${(error as Error).message}. DATABASE_URL's role may not change the schema; set DATABASE_OWNER_URL to the role that owns it.`,
        { cause: error },
      );
    }
    throw error;
  }
}
