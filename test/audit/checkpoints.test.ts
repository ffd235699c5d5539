import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import {
  checkpointKeyFile,
  checkpointLogFile,
  ensureCheckpointKey,
  hasValidMac,
  readCheckpointFile,
  resolveCheckpointKey,
  signCheckpoint,
  startCheckpointWriter,
  writeCheckpoint,
} from '../../src/audit/checkpoints';
import { appendAuditEvent, auditChainHead, listAuditCheckpoints } from '../../src/store/audit';
import { createTestDatabase, type TestDatabase } from '../support/database';

const KEY = 'checkpoint-test-key-0123456789abcdef-0123456789';

function recordingLogger(): { logger: Logger; lines: Array<{ msg: string; auditCheckpoint?: unknown }> } {
  const lines: Array<{ msg: string; auditCheckpoint?: unknown }> = [];
  return { logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) }), lines };
}

describe('signing', () => {
  const head = { events: 3, headHash: 'a'.repeat(64) };

  test('a checkpoint verifies under its key only, and any changed field breaks it', () => {
    const checkpoint = signCheckpoint(KEY, head, new Date('2025-01-01T00:00:00.123456Z'));
    expect(checkpoint).toMatchObject({ events: 3, headHash: head.headHash, at: '2025-01-01T00:00:00.123Z', mac: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(hasValidMac(KEY, checkpoint)).toBe(true);
    expect(hasValidMac(`${KEY}x`, checkpoint)).toBe(false);
    expect(hasValidMac(KEY, { ...checkpoint, events: 4 })).toBe(false);
    expect(hasValidMac(KEY, { ...checkpoint, headHash: 'b'.repeat(64) })).toBe(false);
    expect(hasValidMac(KEY, { ...checkpoint, at: '2025-01-01T00:00:01.123Z' })).toBe(false);
    expect(hasValidMac(KEY, { ...checkpoint, mac: 'not hex' })).toBe(false);
  });
});

describe('the checkpoint key file', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'wpa-checkpoint-key-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  test('is generated once with mode 0600; the configured key wins; reading never creates one', async () => {
    expect(await resolveCheckpointKey(undefined, dataDir)).toBeUndefined();
    const generated = await ensureCheckpointKey(dataDir);
    expect(generated.length).toBeGreaterThanOrEqual(32);
    expect(statSync(checkpointKeyFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(await ensureCheckpointKey(dataDir)).toBe(generated);
    expect(await resolveCheckpointKey(undefined, dataDir)).toBe(generated);
    expect(await resolveCheckpointKey(KEY, dataDir)).toBe(KEY);
  });
});

describe('writing checkpoints', () => {
  let db: TestDatabase;
  let dataDir: string;
  beforeEach(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'wpa-checkpoints-'));
  });
  afterEach(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('only when the chain grew; into the table, the file (0600, one JSON line each) and the log', async () => {
    const { logger, lines } = recordingLogger();
    const file = checkpointLogFile(dataDir);
    const writer = { pool: db.pool, key: KEY, file, logger };
    expect(await writeCheckpoint(writer)).toBeUndefined();
    await appendAuditEvent(db.pool, { actor: 'a', action: 'x' });
    await appendAuditEvent(db.pool, { actor: 'b', action: 'y' });
    const first = await writeCheckpoint(writer);
    expect(first).toMatchObject({ events: 2, headHash: (await auditChainHead(db.pool)).headHash });
    expect(await writeCheckpoint(writer)).toBeUndefined();
    await appendAuditEvent(db.pool, { actor: 'c', action: 'z' });
    const second = await writeCheckpoint(writer);
    expect(second).toMatchObject({ events: 3 });

    expect(await listAuditCheckpoints(db.pool)).toEqual([first, second]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(first)}\n${JSON.stringify(second)}\n`);
    expect(lines.map((line) => line.auditCheckpoint)).toEqual([first, second]);
  });

  test('several API processes racing store one checkpoint per event count; only the one that stored it appends it to its file', async () => {
    await appendAuditEvent(db.pool, { actor: 'a', action: 'x' });
    const silent = pino({ level: 'silent' });
    const files = [1, 2, 3].map((n) => checkpointLogFile(path.join(dataDir, `api-${n}`)));
    const written = await Promise.all(files.map((file) => writeCheckpoint({ pool: db.pool, key: KEY, file, logger: silent })));
    expect(written.filter((checkpoint) => checkpoint !== undefined)).toHaveLength(1);
    expect(await listAuditCheckpoints(db.pool)).toHaveLength(1);
    const logged = await Promise.all(files.map(readCheckpointFile));
    expect(logged.flatMap((file) => file.checkpoints)).toHaveLength(1);
  });

  test('never signs a chain shorter than the newest checkpoint: that would vouch for deleted events', async () => {
    for (const actor of ['a', 'b', 'c']) await appendAuditEvent(db.pool, { actor, action: 'x' });
    const writer = { pool: db.pool, key: KEY, file: checkpointLogFile(dataDir), logger: pino({ level: 'silent' }) };
    await writeCheckpoint(writer);
    await db.ownerPool.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await db.ownerPool.query('DELETE FROM audit_events WHERE seq = 3');
    await db.ownerPool.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    expect(await writeCheckpoint(writer)).toBeUndefined();
    expect(await listAuditCheckpoints(db.pool)).toHaveLength(1);
  });

  test('the writer signs at start, on its interval and at stop', async () => {
    const { logger, lines } = recordingLogger();
    await appendAuditEvent(db.pool, { actor: 'a', action: 'x' });
    const writer = await startCheckpointWriter({ pool: db.pool, key: KEY, file: checkpointLogFile(dataDir), logger, intervalSeconds: 1 });
    expect((await listAuditCheckpoints(db.pool)).map((c) => c.events)).toEqual([1]);
    await appendAuditEvent(db.pool, { actor: 'b', action: 'y' });
    for (let i = 0; i < 40 && (await listAuditCheckpoints(db.pool)).length < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await listAuditCheckpoints(db.pool)).map((c) => c.events)).toEqual([1, 2]);
    await appendAuditEvent(db.pool, { actor: 'c', action: 'z' });
    await writer.stop();
    expect((await listAuditCheckpoints(db.pool)).map((c) => c.events)).toEqual([1, 2, 3]);
    expect(lines.filter((line) => line.auditCheckpoint !== undefined)).toHaveLength(3);
  });

  test('a failed write is logged as a warning and does not stop the writer', async () => {
    const { logger, lines } = recordingLogger();
    await appendAuditEvent(db.pool, { actor: 'a', action: 'x' });
    // The file cannot be created: its folder is a regular file.
    const blocked = path.join(dataDir, 'not-a-folder');
    writeFileSync(blocked, '');
    const writer = await startCheckpointWriter({ pool: db.pool, key: KEY, file: path.join(blocked, 'audit-checkpoints.jsonl'), logger, intervalSeconds: 3600 });
    await writer.stop();
    expect(lines.map((line) => line.msg)).toEqual([expect.stringMatching(/could not write an audit checkpoint; retrying at the next interval/)]);
  });
});
