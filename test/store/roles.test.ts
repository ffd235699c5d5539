/**
 * The service's database role: it can do everything the service does, and nothing that would let it rewrite the
 * audit trail. createTestDatabase() connects `pool` as such a role, set up by the same openServiceDatabase() as
 * every entry point; `ownerPool` is the superuser.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { checkpointLogFile, writeCheckpoint } from '../../src/audit/checkpoints';
import { verifyAuditTrail } from '../../src/audit/verify';
import { appendAuditEvent, listAuditCheckpoints } from '../../src/store/audit';
import { grantServicePrivileges } from '../../src/store/roles';
import { openServiceDatabase } from '../../src/store/service-database';
import { createTarget, listTargets } from '../../src/store/targets';
import { createTestDatabase, type TestDatabase } from '../support/database';

const PERMISSION_DENIED = { code: '42501' };

/** A pino logger whose warnings are collected. */
function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push((JSON.parse(line) as { msg: string }).msg) });
  return { logger, warnings };
}

describe('the service database role', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await appendAuditEvent(db.pool, { actor: 'alice', action: 'x' });
  });
  afterAll(async () => {
    await db.drop();
  });

  test('is a plain login role', async () => {
    const { rows } = await db.ownerPool.query('SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication FROM pg_roles WHERE rolname = $1', [db.appRole]);
    expect(rows).toEqual([{ rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolbypassrls: false, rolreplication: false }]);
  });

  test('holds exactly: SELECT, INSERT, UPDATE, DELETE on the read model; SELECT, INSERT on the audit tables; SELECT on schema_migrations', async () => {
    const { rows } = await db.ownerPool.query<{ table_name: string; privileges: string }>(
      `SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) AS privileges
         FROM information_schema.role_table_grants WHERE grantee = $1 GROUP BY table_name`,
      [db.appRole],
    );
    const byTable = Object.fromEntries(rows.map((row) => [row.table_name, row.privileges]));
    const { rows: tables } = await db.ownerPool.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    for (const { tablename } of tables) {
      const expected =
        tablename === 'audit_events' || tablename === 'audit_checkpoints'
          ? 'INSERT,SELECT'
          : tablename === 'schema_migrations'
            ? 'SELECT'
            : 'DELETE,INSERT,SELECT,UPDATE';
      expect([tablename, byTable[tablename]]).toEqual([tablename, expected]);
    }
    const { rows: owned } = await db.ownerPool.query(`SELECT tablename FROM pg_tables WHERE tableowner = $1`, [db.appRole]);
    expect(owned).toEqual([]);
  });

  test.each(['audit_events', 'audit_checkpoints'])('cannot UPDATE, DELETE, TRUNCATE %s, nor disable its triggers, drop or alter it', async (table) => {
    await expect(db.pool.query(`UPDATE ${table} SET at = now()`)).rejects.toMatchObject(PERMISSION_DENIED);
    await expect(db.pool.query(`DELETE FROM ${table}`)).rejects.toMatchObject(PERMISSION_DENIED);
    await expect(db.pool.query(`TRUNCATE ${table}`)).rejects.toMatchObject(PERMISSION_DENIED);
    await expect(db.pool.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`)).rejects.toThrow(`must be owner of table ${table}`);
    await expect(db.pool.query(`ALTER TABLE ${table} DISABLE TRIGGER ALL`)).rejects.toThrow(`must be owner of table ${table}`);
    await expect(db.pool.query(`DROP TABLE ${table}`)).rejects.toThrow(`must be owner of table ${table}`);
    await expect(db.pool.query(`SET session_replication_role = replica`)).rejects.toMatchObject(PERMISSION_DENIED);
  });

  test('cannot change the schema, the migration registry or roles', async () => {
    await expect(db.pool.query('CREATE TABLE shadow (id int)')).rejects.toMatchObject(PERMISSION_DENIED);
    await expect(db.pool.query('DROP TRIGGER audit_events_no_update ON audit_events')).rejects.toThrow(/must be owner of (table|relation) audit_events/);
    await expect(db.pool.query(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'`)).rejects.toThrow(/must be owner of function|permission denied/);
    await expect(db.pool.query(`DELETE FROM schema_migrations`)).rejects.toMatchObject(PERMISSION_DENIED);
    await expect(db.pool.query(`ALTER ROLE ${db.appRole} SUPERUSER`)).rejects.toMatchObject(PERMISSION_DENIED);
  });

  test('can still do what the service does: read model writes, appends, checkpoints, verification', async () => {
    const target = await createTarget(db.pool, { name: `org/${randomUUID()}`, repoUrl: 'file:///r', branch: 'main', healthChecks: [], verifyCommand: null, createdBy: 'alice' });
    expect((await listTargets(db.pool)).map((t) => t.id)).toContain(target.id);
    await db.pool.query(`UPDATE targets SET branch = 'release' WHERE id = $1`, [target.id]);
    await appendAuditEvent(db.pool, { actor: 'alice', action: 'target.created', subjectType: 'target', subjectId: target.id });
    const key = 'k'.repeat(40);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'wpa-roles-'));
    try {
      const file = checkpointLogFile(dataDir);
      expect(await writeCheckpoint({ pool: db.pool, key, file, logger: pino({ level: 'silent' }) })).toMatchObject({ events: 2 });
      expect(await listAuditCheckpoints(db.pool)).toHaveLength(1);
      expect(await verifyAuditTrail({ pool: db.pool, key, checkpointFile: file })).toMatchObject({ ok: true, events: 2, checkpoints: 1 });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    await db.pool.query('DELETE FROM targets WHERE id = $1', [target.id]);
  });

  test('re-granting after a later migration covers its new tables, and concurrent grants do not collide', async () => {
    await db.ownerPool.query('CREATE TABLE later_migration_table (id int PRIMARY KEY)');
    await Promise.all([grantServicePrivileges(db.ownerPool, db.appRole), grantServicePrivileges(db.ownerPool, db.appRole)]);
    await db.pool.query('INSERT INTO later_migration_table VALUES (1)');
    await db.pool.query('DELETE FROM later_migration_table');
    await expect(db.pool.query('UPDATE audit_events SET actor = actor')).rejects.toMatchObject(PERMISSION_DENIED);
  });
});

describe('openServiceDatabase', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterEach(async () => {
    await db.drop();
  });

  test('migrates as the owner and connects as the service role, without a warning', async () => {
    const { logger, warnings } = recordingLogger();
    const pool = await openServiceDatabase({ url: db.url, ownerUrl: db.ownerUrl, poolSize: 2, logger });
    try {
      expect((await pool.query<{ role: string }>('SELECT current_user AS role')).rows[0]?.role).toBe(db.appRole);
      expect(warnings).toEqual([]);
      // A later start by the service role alone (no owner URL) finds the schema up to date and needs no DDL.
      const again = await openServiceDatabase({ url: db.url, ownerUrl: undefined, poolSize: 1, logger });
      await again.end();
      expect(warnings).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  test('a role that could rewrite the audit trail migrates but gets exactly one warning', async () => {
    const { logger, warnings } = recordingLogger();
    const pool = await openServiceDatabase({ url: db.ownerUrl, ownerUrl: undefined, poolSize: 1, logger });
    await pool.end();
    expect(warnings).toEqual([expect.stringMatching(/^The database role postgres could rewrite the audit trail \(it is a superuser\)\. .*DATABASE_OWNER_URL/)]);
  });

  test('names the powers of a non-superuser that holds too much', async () => {
    await openServiceDatabase({ url: db.url, ownerUrl: db.ownerUrl, poolSize: 1, logger: pino({ level: 'silent' }) }).then((pool) => pool.end());
    await db.ownerPool.query(`GRANT UPDATE, TRUNCATE ON audit_events TO ${db.appRole}`);
    const { logger, warnings } = recordingLogger();
    await openServiceDatabase({ url: db.url, ownerUrl: undefined, poolSize: 1, logger }).then((pool) => pool.end());
    expect(warnings).toEqual([expect.stringContaining('(it holds UPDATE, TRUNCATE on audit_events)')]);
  });

  test('the service role alone cannot create the schema: the error says to set DATABASE_OWNER_URL', async () => {
    await expect(openServiceDatabase({ url: db.url, ownerUrl: undefined, poolSize: 1, logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /permission denied for schema public\. DATABASE_URL's role may not change the schema; set DATABASE_OWNER_URL to the role that owns it\./,
    );
  });
});
