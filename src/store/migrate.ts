/**
 * Versioned SQL migrations from `migrations/NNNN_name.sql`, applied in order, each in its own transaction, under
 * a session advisory lock so concurrent starters (several API/worker processes) never race. Applying twice is a
 * no-op; an applied migration whose file changed is refused (checksum), because history must not be rewritten.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { projectRoot } from '../util/project-root';

/** Arbitrary constant shared by every process of this service. */
const MIGRATION_LOCK_KEY = 7_230_415_001;

export interface Migration {
  /** The file name without `.sql`, e.g. `0001_read_model`. */
  id: string;
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = path.join(projectRoot(), 'migrations')): Promise<Migration[]> {
  const files = (await fs.readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await fs.readFile(path.join(dir, file), 'utf8');
      return {
        id: file.slice(0, -4),
        version: Number(file.slice(0, 4)),
        name: file.slice(5, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

export async function migrate(pool: Pool, migrations?: Migration[]): Promise<MigrationResult> {
  const wanted = migrations ?? (await readMigrations());
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    // Only when missing: even CREATE TABLE IF NOT EXISTS needs the CREATE privilege, which the service's own
    // least-privilege role lacks, and it must still be able to confirm that the schema is up to date.
    const { rows: [registry] } = await client.query<{ exists: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`);
    if (!registry?.exists) {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
    }
    const { rows } = await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations');
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    const applied: string[] = [];
    for (const m of wanted) {
      const checksum = done.get(m.version);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) {
          throw new Error(`migration ${m.id} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.id} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(`${m.id}`);
    }
    return { applied, alreadyApplied: wanted.length - applied.length };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}
