/**
 * `npm run migrate` (dist/src/store/migrate-cli.js) on a real, empty database: it migrates as the schema owner and
 * grants the service's role, once; without DATABASE_URL it says what is missing in one line.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { readMigrations } from '../../src/store/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';

const CLI = path.join(__dirname, '..', '..', 'dist', 'src', 'store', 'migrate-cli.js');

async function runCli(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DATABASE_')));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI], { env: { ...base, LOG_LEVEL: 'warn', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(async () => {
    await db.drop();
  });

  test('migrates an empty database as its owner, then the service role can read it; a second run changes nothing', async () => {
    const first = await runCli({ DATABASE_URL: db.url, DATABASE_OWNER_URL: db.ownerUrl });
    expect(first).toMatchObject({ code: 0, stdout: 'the database is migrated\n' });
    const { rows } = await db.ownerPool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]?.n).toBe((await readMigrations()).length);
    await expect(db.pool.query('SELECT count(*) FROM patches')).resolves.toBeDefined();
    expect(await runCli({ DATABASE_URL: db.url, DATABASE_OWNER_URL: db.ownerUrl })).toMatchObject({ code: 0 });
    const again = await db.ownerPool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(again.rows[0]?.n).toBe(rows[0]?.n);
  });

  test('without DATABASE_URL: exit code 2 and one line naming it', async () => {
    const run = await runCli({});
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('invalid setting DATABASE_URL: required: the database to migrate (npm start migrates its embedded database itself)');
  });
});
