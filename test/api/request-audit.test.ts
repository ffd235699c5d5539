/**
 * A change is on the audit trail before it can be seen: its event is written in the same transaction as the
 * read-model rows, or before the Temporal call. When the trail cannot be written (here: the service role loses
 * its INSERT privilege, as a full disk or a broken grant would do), the request fails with 503 and nothing happens.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { listAuditEvents } from '../../src/store/audit';
import { createPatch } from '../../src/store/patches';
import { createTestApi, PERMISSIONS_DIFF, storedTarget, type TestApi } from '../support/api';


describe('audit events are written before the change they describe', () => {
  let api: TestApi;
  let operator: string;
  let guardian: string;
  let targetId: string;

  beforeAll(async () => {
    api = await createTestApi();
    [operator, guardian] = await Promise.all([api.token(['operator'], 'olga'), api.token(['guardian'], 'gus')]);
    const target = await storedTarget(api.db, 'org/audited');
    targetId = target.id;
  });
  afterAll(async () => {
    await api.close();
  });

  async function withoutAuditInsert(run: () => Promise<void>): Promise<void> {
    await api.db.ownerPool.query(`REVOKE INSERT ON audit_events FROM ${api.db.appRole}`);
    try {
      await run();
    } finally {
      await api.db.ownerPool.query(`GRANT INSERT ON audit_events TO ${api.db.appRole}`);
    }
  }

  const count = async (table: string): Promise<number> => Number((await api.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);

  test('a registered target and its event are stored together, with the request metadata', async () => {
    const res = await request(api.app)
      .post('/api/v1/targets')
      .set('Authorization', `Bearer ${operator}`)
      .set('X-Request-Id', 'req-target-1')
      .set('User-Agent', 'curl/8\u00ff')
      .send({ name: 'org/new', repoUrl: 'https://git.example.com/org/new.git' });
    expect(res.status).toBe(201);
    const [event] = await listAuditEvents(api.db.pool, { subjectType: 'target', subjectId: res.body.id });
    expect(event).toMatchObject({ action: 'target.created', actor: 'olga', roles: ['operator'], requestId: 'req-target-1', method: 'POST', path: '/api/v1/targets' });
    expect(event?.details).toMatchObject({ name: 'org/new', repoUrl: 'https://git.example.com/org/new.git', runsCommands: false });
  });

  test('no trail, no target: 503 and nothing stored', async () => {
    const before = await count('targets');
    await withoutAuditInsert(async () => {
      const res = await request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${operator}`).send({ name: 'org/unaudited', repoUrl: 'https://git.example.com/org/u.git' });
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toContain('audit trail could not be written');
    });
    expect(await count('targets')).toBe(before);
  });

  test('no trail, no patch: 503, no row and no workflow start', async () => {
    const before = await count('patches');
    await withoutAuditInsert(async () => {
      const res = await request(api.app).post('/api/v1/patches').set('Authorization', `Bearer ${operator}`).send({ title: 'Pin', type: 'security', targets: [targetId], diff: PERMISSIONS_DIFF });
      expect(res.status).toBe(503);
      // Temporal is unreachable in this suite: a start attempt would have answered with Temporal's own 503.
      expect(res.body.detail).toContain('audit trail could not be written');
    });
    expect(await count('patches')).toBe(before);
  });

  test.each(['approve', 'reject', 'pause', 'resume', 'abort'])('no trail, no %s sent to Temporal', async (action) => {
    const id = randomUUID();
    const [target] = (await api.db.pool.query('SELECT * FROM targets WHERE id = $1', [targetId])).rows as [{ name: string }];
    await createPatch(api.db.pool, {
      id,
      workflowId: `patch-${id}`,
      title: 'Pin',
      type: 'security',
      description: null,
      author: 'olga',
      diff: PERMISSIONS_DIFF,
      targets: [{ id: targetId, name: target.name, repoUrl: '/tmp/audited.git', branch: 'main', healthChecks: [], verifyCommand: null, sandbox: { network: false, env: {} }, createdBy: 'test', createdAt: new Date().toISOString() }],
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 30, windowSeconds: 300, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
      approval: { quorum: 1, timeoutSeconds: 3600 },
    });
    await api.db.ownerPool.query("UPDATE patches SET status = 'deploying' WHERE id = $1", [id]);
    await withoutAuditInsert(async () => {
      const body = action === 'approve' || action === 'pause' || action === 'resume' ? {} : { reason: 'stop' };
      const started = Date.now();
      const res = await request(api.app).post(`/api/v1/patches/${id}/${action}`).set('Authorization', `Bearer ${guardian}`).send(body);
      expect(res.status).toBe(503);
      expect(res.body.detail).toContain('audit trail could not be written');
      // Temporal (unreachable here) was never asked: its deadline is 10 s.
      expect(Date.now() - started).toBeLessThan(5_000);
    });
    const events = await listAuditEvents(api.db.pool, { subjectType: 'patch', subjectId: id });
    expect(events).toEqual([]);
  });

  test('an action is on the trail before Temporal is asked, even when Temporal then fails', async () => {
    const { rows } = await api.db.pool.query<{ id: string }>("SELECT id FROM patches WHERE status = 'deploying' LIMIT 1");
    const id = rows[0]?.id ?? '';
    const res = await request(api.app).post(`/api/v1/patches/${id}/abort`).set('Authorization', `Bearer ${guardian}`).set('X-Request-Id', 'req-abort-1').send({ reason: 'stop now' });
    expect(res.status).toBe(503);
    const events = await listAuditEvents(api.db.pool, { subjectType: 'patch', subjectId: id });
    expect(events).toEqual([expect.objectContaining({ action: 'patch.abort_requested', actor: 'gus', requestId: 'req-abort-1', details: { reason: 'stop now' } })]);
  }, 30_000);
});
