import { appendAuditEvent, listAuditEvents, verifyAuditChain } from '../../src/store/audit';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('audit trail', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  test('events chain by hash and verify intact', async () => {
    const first = await appendAuditEvent(db.pool, { actor: 'alice', roles: ['operator'], action: 'patch.created', subjectType: 'patch', subjectId: 'p1' });
    const second = await appendAuditEvent(db.pool, { actor: 'bob', roles: ['guardian'], action: 'patch.approved', subjectType: 'patch', subjectId: 'p1', details: { comment: 'ok' } });
    expect(first.seq).toBe(1);
    expect(second.prevHash).toBe(first.hash);
    expect(await verifyAuditChain(db.pool)).toEqual({ intact: true, events: 2, headHash: second.hash });
  });

  test('concurrent appends keep one unbroken chain', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => appendAuditEvent(db.pool, { actor: `u${i}`, action: 'http.request' })));
    const verification = await verifyAuditChain(db.pool, 7);
    expect(verification).toMatchObject({ intact: true, events: 20 });
  });

  test('an idempotency key makes a retried append return the first event', async () => {
    const a = await appendAuditEvent(db.pool, { actor: 'worker', action: 'deployment.deployed', idempotencyKey: 'p1:t1:deploy' });
    const b = await appendAuditEvent(db.pool, { actor: 'worker', action: 'deployment.deployed', idempotencyKey: 'p1:t1:deploy' });
    expect(b).toEqual(a);
    expect(await listAuditEvents(db.pool)).toHaveLength(1);
  });

  test('tampering is detected at the first altered event', async () => {
    for (const actor of ['a', 'b', 'c']) await appendAuditEvent(db.pool, { actor, action: 'x' });
    // A superuser can bypass the append-only trigger; the hash chain still exposes the edit.
    await db.pool.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    await db.pool.query(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 2`);
    expect(await verifyAuditChain(db.pool)).toMatchObject({ intact: false, firstBrokenSeq: 2, events: 1 });
  });

  test('filters by subject', async () => {
    await appendAuditEvent(db.pool, { actor: 'a', action: 'x', subjectType: 'patch', subjectId: 'p1' });
    await appendAuditEvent(db.pool, { actor: 'a', action: 'x', subjectType: 'patch', subjectId: 'p2' });
    const events = await listAuditEvents(db.pool, { subjectType: 'patch', subjectId: 'p2' });
    expect(events.map((e) => e.subjectId)).toEqual(['p2']);
  });
});
