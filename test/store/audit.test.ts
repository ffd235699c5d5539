import { randomUUID } from 'node:crypto';
import { verifyAuditTrail } from '../../src/audit/verify';
import { appendAuditEvent, appendAuditEvents, auditEventHash, listAuditEvents } from '../../src/store/audit';
import { withTransaction } from '../../src/store/db';
import { createTestDatabase, type TestDatabase } from '../support/database';

const NO_CHECKPOINT_FILE = '/nonexistent/audit-checkpoints.jsonl';

describe('audit trail', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  test('events chain by hash', async () => {
    const first = await appendAuditEvent(db.pool, { actor: 'alice', roles: ['operator'], action: 'patch.created', subjectType: 'patch', subjectId: 'p1' });
    const second = await appendAuditEvent(db.pool, { actor: 'bob', roles: ['guardian'], action: 'patch.approved', subjectType: 'patch', subjectId: 'p1', details: { comment: 'ok' } });
    expect(first.seq).toBe(1);
    expect(first.prevHash).toBe('');
    expect(second.prevHash).toBe(first.hash);
    const { hash, ...unhashed } = second;
    expect(auditEventHash(unhashed)).toBe(hash);
    expect(await listAuditEvents(db.pool)).toEqual([first, second]);
  });

  test('the database chains hostile text exactly as auditEventHash hashes it, and the chain verifies', async () => {
    const hostile = ['"prevHash":"', '"seq":1}', '\\u0000\\"', 'é\u00e9e\u0301', '😀\u202e\u2028', '\ud800 lone', "'; DROP TABLE audit_events; --"];
    const events = await appendAuditEvents(
      db.pool,
      hostile.map((text, i) => ({
        actor: text,
        roles: [text],
        action: `test.${i}`,
        subjectType: text,
        subjectId: text,
        requestId: text,
        ip: text,
        userAgent: text,
        method: text,
        path: text,
        status: 200 + i,
        details: { [text]: text, nested: [text, { é: 1, e: 2, '\u{10000}': 3, '\uff61': 4 }], big: 1e21, small: 1e-7, seq: text, prevHash: text },
        idempotencyKey: text,
      })),
    );
    expect(events).toHaveLength(hostile.length);
    for (const [i, event] of events.entries()) {
      const { hash, ...unhashed } = event;
      expect(auditEventHash(unhashed)).toBe(hash);
      expect(event.seq).toBe(i + 1);
      // A lone surrogate is stored (and hashed) as U+FFFD, as the driver sends every text field.
      expect(event.actor).toBe((hostile[i] ?? '').replace('\ud800', '\ufffd'));
      expect(event.details[(hostile[i] ?? '').replace('\ud800', '\ufffd')]).toBe(event.actor);
    }
    expect(await listAuditEvents(db.pool)).toEqual(events);
    const verification = await verifyAuditTrail({ pool: db.pool, key: undefined, checkpointFile: NO_CHECKPOINT_FILE, pageSize: 3 });
    expect(verification).toMatchObject({ ok: true, events: hostile.length, firstBrokenSeq: null });
  });

  test('concurrent appends keep one unbroken chain', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => appendAuditEvent(db.pool, { actor: `u${i}`, action: 'http.request' })));
    const verification = await verifyAuditTrail({ pool: db.pool, key: undefined, checkpointFile: NO_CHECKPOINT_FILE, pageSize: 7 });
    expect(verification).toMatchObject({ ok: true, events: 20, firstBrokenSeq: null });
  });

  test('an idempotency key makes a retried append return the first event', async () => {
    const a = await appendAuditEvent(db.pool, { actor: 'worker', action: 'deployment.deployed', idempotencyKey: 'p1:t1:deploy' });
    const b = await appendAuditEvent(db.pool, { actor: 'worker', action: 'deployment.deployed', idempotencyKey: 'p1:t1:deploy' });
    expect(b).toEqual(a);
    expect(await listAuditEvents(db.pool)).toHaveLength(1);
  });

  test('a batch chains in its order under one append, concurrent with single appends; its idempotency keys hold within it and across appends', async () => {
    const before = await appendAuditEvent(db.pool, { actor: 'worker', action: 'health.sampled', idempotencyKey: 'k0' });
    const inputs = Array.from({ length: 2_500 }, (_, i) => ({ actor: 'worker', action: 'health.sampled', details: { i }, idempotencyKey: `k${i % 2_400}` }));
    const [batch] = await Promise.all([
      appendAuditEvents(db.pool, inputs),
      ...Array.from({ length: 5 }, (_, i) => appendAuditEvent(db.pool, { actor: `u${i}`, action: 'http.request' })),
    ]);
    expect(batch).toHaveLength(2_500);
    // k0 was stored before; k0..k99 repeat within the batch (inputs 2,400..2,499) and return the batch's first event.
    expect(batch[0]).toEqual(before);
    expect(batch[2_400]).toEqual(before);
    expect(batch[2_401]).toEqual(batch[1]);
    const added = batch.slice(1, 2_400);
    expect(added.map((event) => event.details)).toEqual(Array.from({ length: 2_399 }, (_, i) => ({ i: i + 1 })));
    added.slice(1).forEach((event, i) => expect(event.prevHash).toBe(added[i]?.hash));
    const verification = await verifyAuditTrail({ pool: db.pool, key: undefined, checkpointFile: NO_CHECKPOINT_FILE, pageSize: 500 });
    expect(verification).toMatchObject({ ok: true, events: 1 + 2_399 + 5, firstBrokenSeq: null });
    expect(await appendAuditEvents(db.pool, [])).toEqual([]);
  });

  test('filters by subject', async () => {
    await appendAuditEvent(db.pool, { actor: 'a', action: 'x', subjectType: 'patch', subjectId: 'p1' });
    await appendAuditEvent(db.pool, { actor: 'a', action: 'x', subjectType: 'patch', subjectId: 'p2' });
    const events = await listAuditEvents(db.pool, { subjectType: 'patch', subjectId: 'p2' });
    expect(events.map((e) => e.subjectId)).toEqual(['p2']);
  });
});

describe('appending inside the caller\'s transaction', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  const insertTarget = (client: { query: (sql: string, values: unknown[]) => Promise<unknown> }, id: string) =>
    client.query(`INSERT INTO targets (id, name, repo_url, created_by) VALUES ($1, $2, 'file:///r', 'alice')`, [id, `org/${id}`]);
  const targetCount = async (): Promise<number> => Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM targets')).rows[0]?.n);

  test('the event commits with the read-model change it describes', async () => {
    const id = randomUUID();
    const event = await withTransaction(db.pool, async (client) => {
      await insertTarget(client, id);
      return appendAuditEvent(client, { actor: 'alice', action: 'target.created', subjectType: 'target', subjectId: id });
    });
    expect(await targetCount()).toBe(1);
    expect(await listAuditEvents(db.pool)).toEqual([event]);
  });

  test('and rolls back with it', async () => {
    await expect(
      withTransaction(db.pool, async (client) => {
        await insertTarget(client, randomUUID());
        await appendAuditEvent(client, { actor: 'alice', action: 'target.created' });
        throw new Error('the request failed after the append');
      }),
    ).rejects.toThrow('the request failed after the append');
    expect(await targetCount()).toBe(0);
    expect(await listAuditEvents(db.pool)).toEqual([]);
    // The rolled-back event left no gap: the next one is still seq 1.
    expect((await appendAuditEvent(db.pool, { actor: 'bob', action: 'x' })).seq).toBe(1);
  });

  test('appends through transactions and through the pool interleave into one chain; idempotency keys still hold', async () => {
    const inTransactions = Array.from({ length: 8 }, (_, i) =>
      withTransaction(db.pool, async (client) => {
        await insertTarget(client, randomUUID());
        return appendAuditEvent(client, { actor: `tx${i}`, action: 'target.created', idempotencyKey: `tx:${i % 4}` });
      }),
    );
    const direct = Array.from({ length: 8 }, (_, i) => appendAuditEvent(db.pool, { actor: `pool${i}`, action: 'http.request' }));
    await Promise.all([...inTransactions, ...direct]);
    expect(await verifyAuditTrail({ pool: db.pool, key: undefined, checkpointFile: NO_CHECKPOINT_FILE })).toMatchObject({ ok: true, events: 12 });
  });
});
