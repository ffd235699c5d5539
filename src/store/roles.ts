/**
 * The service's own database role and what it may do. Migrations run as the schema owner; the worker and API
 * pools connect as an application role that may read and write the read model but only read and append to the
 * audit trail: without UPDATE, DELETE, TRUNCATE or ownership it can neither rewrite rows nor disable the
 * append-only triggers (ALTER TABLE ... DISABLE TRIGGER needs ownership).
 */
import { escapeIdentifier, escapeLiteral, type Pool } from 'pg';
import { withTransaction } from './db';

/** Tables that only ever grow: the service may read them and append to them, nothing else. */
export const APPEND_ONLY_TABLES: readonly string[] = ['audit_events', 'audit_checkpoints'];
/** Read by every starter to confirm the schema is up to date; changed only by migrations, as the owner. */
const MIGRATION_REGISTRY = 'schema_migrations';
const SCHEMA = 'public';
/** Concurrent GRANTs on the same tables fail with "tuple concurrently updated": starters take turns. */
const GRANT_LOCK_KEY = 7_230_415_003;

const ROLE_ATTRIBUTES = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION';
const DUPLICATE_OBJECT = '42710';
const UNIQUE_VIOLATION = '23505';

/**
 * Creates the login role `role` without any special power, or resets an existing one to exactly that and to
 * `password`. Needs a superuser or CREATEROLE (the embedded stack and the tests; elsewhere the DBA makes roles).
 */
export async function ensureApplicationRole(owner: Pool, role: string, password: string): Promise<void> {
  const alter = `ALTER ROLE ${escapeIdentifier(role)} WITH ${ROLE_ATTRIBUTES} PASSWORD ${escapeLiteral(password)}`;
  const { rowCount } = await owner.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (rowCount) {
    await owner.query(alter);
    return;
  }
  try {
    await owner.query(`CREATE ROLE ${escapeIdentifier(role)} WITH ${ROLE_ATTRIBUTES} PASSWORD ${escapeLiteral(password)}`);
  } catch (error) {
    // Another starter created it in the meantime (role names are cluster-wide, so no advisory lock covers this).
    const code = (error as { code?: string }).code;
    if (code !== DUPLICATE_OBJECT && code !== UNIQUE_VIOLATION) throw error;
    await owner.query(alter);
  }
}

/**
 * Grants `role` exactly what the service needs on every table of the schema: SELECT, INSERT, UPDATE, DELETE on
 * the read model; SELECT and INSERT on the append-only tables; SELECT on the migration registry; sequences for
 * inserts. Run after every migration, so tables added later are covered too. A superuser or a member of the
 * tables' owner keeps its powers whatever is granted: such a role is left alone, and the start-up check
 * (auditRewriteRisks) warns about it instead.
 */
export async function grantServicePrivileges(owner: Pool, role: string): Promise<void> {
  const { rows } = await owner.query<{ privileged: boolean }>(
    `SELECT r.rolsuper OR EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $2 AND c.relkind IN ('r', 'p') AND pg_has_role(r.oid, c.relowner, 'MEMBER')) AS privileged
       FROM pg_roles r WHERE r.rolname = $1`,
    [role, SCHEMA],
  );
  if (!rows[0]) throw new Error(`the database role ${role} does not exist`);
  if (rows[0].privileged) return;
  const grantee = escapeIdentifier(role);
  const schema = escapeIdentifier(SCHEMA);
  const appendOnly = APPEND_ONLY_TABLES.map(escapeIdentifier).join(', ');
  await withTransaction(owner, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [GRANT_LOCK_KEY]);
    // PUBLIC has USAGE on the public schema unless a hardened database revoked it; granting needs the schema's owner.
    const { rows: [usage] } = await client.query<{ granted: boolean }>('SELECT has_schema_privilege($1, $2, $3) AS granted', [role, SCHEMA, 'USAGE']);
    if (!usage?.granted) await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${grantee}`);
    // Revoke, then grant, in one transaction: the role ends with exactly this, whatever it held before.
    await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${grantee}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${grantee}`);
    await client.query(`REVOKE UPDATE, DELETE ON ${appendOnly} FROM ${grantee}`);
    await client.query(`REVOKE INSERT, UPDATE, DELETE ON ${escapeIdentifier(MIGRATION_REGISTRY)} FROM ${grantee}`);
    await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${grantee}`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${grantee}`);
  });
}

export interface AuditRewriteRisks {
  /** The role the pool connects as. */
  role: string;
  /** Why that role could rewrite the audit trail, as clauses ("it is a superuser"); empty when it cannot. */
  reasons: string[];
}

interface AppendOnlyTablePowers {
  table_name: string;
  owner: boolean;
  can_update: boolean;
  can_delete: boolean;
  can_truncate: boolean;
}

/** What the pool's own role could do to the append-only tables beyond reading and appending. */
export async function auditRewriteRisks(pool: Pool): Promise<AuditRewriteRisks> {
  const { rows: [self] } = await pool.query<{ role: string; superuser: boolean }>(
    'SELECT rolname AS role, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
  );
  const role = self?.role ?? '';
  if (self?.superuser) return { role, reasons: ['it is a superuser'] };
  const { rows } = await pool.query<AppendOnlyTablePowers>(
    `SELECT t.table_name,
            pg_has_role(current_user, c.relowner, 'MEMBER') AS owner,
            has_table_privilege(c.oid, 'UPDATE') AS can_update,
            has_table_privilege(c.oid, 'DELETE') AS can_delete,
            has_table_privilege(c.oid, 'TRUNCATE') AS can_truncate
       FROM unnest($1::text[]) AS t(table_name)
       JOIN pg_class c ON c.oid = to_regclass(t.table_name)
      ORDER BY t.table_name`,
    [APPEND_ONLY_TABLES],
  );
  const reasons = rows.flatMap((row) => {
    if (row.owner) return [`it owns ${row.table_name} (or is a member of its owner)`];
    const powers = [row.can_update && 'UPDATE', row.can_delete && 'DELETE', row.can_truncate && 'TRUNCATE'].filter((power) => power !== false);
    return powers.length > 0 ? [`it holds ${powers.join(', ')} on ${row.table_name}`] : [];
  });
  return { role, reasons };
}
