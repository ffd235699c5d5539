import { createTestDatabase, type TestDatabase } from '../support/database';
import { migrate, readMigrations } from '../../src/store/migrate';

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
    const first = await migrate(db.pool);
    expect(first.applied).toHaveLength(all.length);
    const second = await migrate(db.pool);
    expect(second).toEqual({ applied: [], alreadyApplied: all.length });
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]?.n).toBe(all.length);
  });

  test('concurrent runners do not race: each migration is applied exactly once', async () => {
    const results = await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.pool)]);
    const applied = results.flatMap((r) => r.applied);
    expect(applied.sort()).toEqual((await readMigrations()).map((m) => m.id).sort());
  });

  test('a changed migration that was already applied is refused', async () => {
    const all = await readMigrations();
    await migrate(db.pool, all);
    const changed = all.map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m));
    await expect(migrate(db.pool, changed)).rejects.toThrow(/was changed after it was applied/);
  });

  test('the audit trail is append-only', async () => {
    await migrate(db.pool);
    await db.pool.query(
      `INSERT INTO audit_events (seq, id, at, actor, action, prev_hash, hash)
       VALUES (1, gen_random_uuid(), now(), 'alice', 'test', '', 'h')`,
    );
    await expect(db.pool.query(`UPDATE audit_events SET actor = 'mallory'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    await expect(db.pool.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
  });
});
