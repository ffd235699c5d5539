/**
 * insertRows: many rows in as few statements as PostgreSQL's 65,535-parameter limit allows, in order, with the
 * statement's tail (ON CONFLICT ...) applied to every chunk.
 */
import { insertRows } from '../../src/store/db';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('insertRows', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.ownerPool.query('CREATE TABLE insert_rows_probe (n integer PRIMARY KEY, label text NOT NULL)');
  });
  afterAll(async () => {
    await db.drop();
  });

  test('rows past the parameter limit go in several statements, in order; the tail applies to each; no rows send nothing', async () => {
    // Two columns: 32,767 rows per statement, so 70,000 rows take three.
    const rows = Array.from({ length: 70_000 }, (_, n) => [n, `row ${n}`]);
    await insertRows(db.ownerPool, 'INSERT INTO insert_rows_probe (n, label)', rows);
    const again = [[5, 'five'], [69_999, 'last']];
    await insertRows(db.ownerPool, 'INSERT INTO insert_rows_probe (n, label)', again, 'ON CONFLICT (n) DO UPDATE SET label = EXCLUDED.label');
    await insertRows(db.ownerPool, 'INSERT INTO not_a_table (n)', []);
    const { rows: stored } = await db.ownerPool.query<{ count: string; first: string; five: string; last: string }>(
      `SELECT count(*) AS count, min(label) FILTER (WHERE n = 0) AS first, min(label) FILTER (WHERE n = 5) AS five,
         min(label) FILTER (WHERE n = 69999) AS last FROM insert_rows_probe`,
    );
    expect(stored[0]).toEqual({ count: '70000', first: 'row 0', five: 'five', last: 'last' });
  });
});
