import { createTestDatabase, type TestDatabase } from '../support/database';
import { migrate, readMigrations } from '../../src/store/migrate';

// Migrations run as the schema owner; the service's own role (db.pool) never changes the schema.
describe('migrations', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterEach(async () => {
    await db.drop();
  });

  test('apply once, then applying again is a no-op', async () => {
    const all = await readMigrations();
    const first = await migrate(db.ownerPool);
    expect(first.applied).toHaveLength(all.length);
    const second = await migrate(db.ownerPool);
    expect(second).toEqual({ applied: [], alreadyApplied: all.length });
    const { rows } = await db.ownerPool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]?.n).toBe(all.length);
  });

  test('concurrent runners do not race: each migration is applied exactly once', async () => {
    const results = await Promise.all([migrate(db.ownerPool), migrate(db.ownerPool), migrate(db.ownerPool)]);
    const applied = results.flatMap((r) => r.applied);
    expect(applied.sort()).toEqual((await readMigrations()).map((m) => m.id).sort());
  });

  test('a changed migration that was already applied is refused', async () => {
    const all = await readMigrations();
    await migrate(db.ownerPool, all);
    const changed = all.map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m));
    await expect(migrate(db.ownerPool, changed)).rejects.toThrow(/was changed after it was applied/);
  });

  test('the audit trail is append-only', async () => {
    await migrate(db.ownerPool);
    await db.ownerPool.query(
      `INSERT INTO audit_events (seq, id, at, actor, action, prev_hash, hash)
       VALUES (1, gen_random_uuid(), now(), 'alice', 'test', '', 'h')`,
    );
    await expect(db.ownerPool.query(`UPDATE audit_events SET actor = 'mallory'`)).rejects.toThrow(/append-only/);
    await expect(db.ownerPool.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    await expect(db.ownerPool.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
  });
});
