/**
 * verifyAuditTrail on its own: paging, and the cases the API and CLI scenarios (test/support/audit-trail.ts) do
 * not cover. Tampering runs as the superuser with the append-only triggers off, as an attacker holding it could.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { checkpointLogFile, writeCheckpoint } from '../../src/audit/checkpoints';
import { verifyAuditTrail } from '../../src/audit/verify';
import { appendAuditEvent, auditEventHash, listAuditEvents } from '../../src/store/audit';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { TEST_CHECKPOINT_KEY } from '../support/audit-trail';

describe('verifyAuditTrail', () => {
  let db: TestDatabase;
  let dataDir: string;
  let file: string;
  beforeEach(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'wpa-verify-'));
    file = checkpointLogFile(dataDir);
  });
  afterEach(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Appends `count` events, signing a checkpoint after each seq listed in `checkpointsAt`. */
  async function chain(count: number, checkpointsAt: readonly number[]): Promise<void> {
    for (let seq = 1; seq <= count; seq += 1) {
      await appendAuditEvent(db.pool, { actor: `u${seq}`, action: 'http.request', details: { seq } });
      if (checkpointsAt.includes(seq)) await writeCheckpoint({ pool: db.pool, key: TEST_CHECKPOINT_KEY, file, logger: pino({ level: 'silent' }) });
    }
  }

  async function asSuperuser(...statements: string[]): Promise<void> {
    await db.ownerPool.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    for (const statement of statements) await db.ownerPool.query(statement);
    await db.ownerPool.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
  }

  const verify = (options: { key?: string | undefined; pageSize?: number } = {}) =>
    verifyAuditTrail({ pool: db.pool, key: 'key' in options ? options.key : TEST_CHECKPOINT_KEY, checkpointFile: file, pageSize: options.pageSize ?? 1000 });

  test('walks the chain in pages, checkpoints on page boundaries included', async () => {
    await chain(13, [4, 8, 9]);
    expect(await verify({ pageSize: 4 })).toEqual({ ok: true, events: 13, checkpoints: 3, firstBrokenSeq: null, problems: [] });
    expect(await verify({ pageSize: 1 })).toMatchObject({ ok: true, events: 13 });
  });

  test('an empty chain with no checkpoints is intact', async () => {
    expect(await verify()).toEqual({ ok: true, events: 0, checkpoints: 0, firstBrokenSeq: null, problems: [] });
  });

  test('a deleted event in the middle', async () => {
    await chain(8, [5, 8]);
    await asSuperuser('DELETE FROM audit_events WHERE seq = 5');
    const result = await verify();
    expect(result).toMatchObject({ ok: false, events: 7, firstBrokenSeq: 5 });
    expect(result.problems).toEqual([
      'Event 5 is missing from the chain.',
      'The signed checkpoint at 5 events names an event 5 that the chain no longer has.',
    ]);
  });

  test('an edited event whose own hash was recomputed breaks the link of the next one (the checkpoint after still matches)', async () => {
    await chain(6, [6]);
    const [fourth] = await listAuditEvents(db.pool, { afterSeq: 3, limit: 1 });
    if (!fourth) throw new Error('the chain has no event 4');
    const { hash: _stored, ...unhashed } = { ...fourth, actor: 'mallory' };
    await asSuperuser(`UPDATE audit_events SET actor = 'mallory', hash = '${auditEventHash(unhashed)}' WHERE seq = 4`);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, firstBrokenSeq: 5 });
    expect(result.problems).toEqual([
      'Event 5 does not link to the event before it: that event was changed or removed.',
    ]);
  });

  test('many broken events are counted after the first 20', async () => {
    await chain(30, []);
    await asSuperuser(`UPDATE audit_events SET actor = 'mallory'`);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, firstBrokenSeq: 1 });
    expect(result.problems).toHaveLength(21);
    expect(result.problems.at(-1)).toBe('10 more problems with events are not listed.');
  });

  test('a checkpoint line altered in the file, and a line that is not a checkpoint', async () => {
    await chain(4, [2, 4]);
    const [first, second] = readFileSync(file, 'utf8').trim().split('\n');
    const altered = { ...(JSON.parse(first ?? '') as Record<string, unknown>), headHash: 'f'.repeat(64) };
    writeFileSync(file, `${JSON.stringify(altered)}\n${second ?? ''}\n`);
    appendFileSync(file, 'not json\n');
    const result = await verify();
    expect(result).toMatchObject({ ok: false, checkpoints: 2, firstBrokenSeq: null });
    expect(result.problems).toEqual([
      `Line 3 of ${file} is not a checkpoint: the file was altered or damaged.`,
      `The checkpoint at 2 events differs between the audit_checkpoints table and ${file}: one of them was altered.`,
      `The checkpoint at 2 events on line 1 of ${file} has an invalid signature: it was not written with this installation's key.`,
    ]);
  });

  test('without a key the checkpoints are not judged: ok follows the chain alone, and the result says so', async () => {
    await chain(3, [3]);
    await db.pool.query(`INSERT INTO audit_checkpoints (events, head_hash, at, mac) VALUES (99, 'x', now(), 'forged')`);
    const result = await verify({ key: undefined });
    expect(result).toMatchObject({ ok: true, events: 3, checkpoints: 2, firstBrokenSeq: null });
    expect(result.problems).toEqual([expect.stringMatching(/^The checkpoints were not checked: there is no checkpoint key/)]);

    await asSuperuser(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 2`);
    expect(await verify({ key: undefined })).toMatchObject({ ok: false, firstBrokenSeq: 2 });
  });

  test('a chain recomputed from its very first event, before any checkpoint, is untrusted from event 1', async () => {
    await chain(5, [3, 5]);
    let prevHash = '';
    const statements: string[] = [];
    for (const event of await listAuditEvents(db.pool)) {
      const { hash: _stored, ...unhashed } = { ...event, prevHash, actor: `${event.actor}!` };
      const hash = auditEventHash(unhashed);
      statements.push(`UPDATE audit_events SET actor = '${unhashed.actor}', prev_hash = '${prevHash}', hash = '${hash}' WHERE seq = ${event.seq}`);
      prevHash = hash;
    }
    await asSuperuser(...statements);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, events: 5, firstBrokenSeq: 1 });
    expect(result.problems).toEqual([
      "The chain's hash at event 3 differs from the signed checkpoint: events up to 3 were changed and the hashes recomputed.",
      '1 later signed checkpoints do not match the chain either.',
    ]);
  });
});
