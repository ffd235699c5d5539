/**
 * The API while PostgreSQL is down, against the real shared server stopped and restarted by the test: every read
 * and write answers 503 problem+json with Retry-After within seconds (never 500), /readyz names the database,
 * and once PostgreSQL is back the same API instance works again without a restart.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createPatch } from '../../src/store/patches';
import { createTestApi, PERMISSIONS_DIFF, storedTarget, type TestApi } from '../support/api';
import { startSharedPostgres, stopSharedPostgres } from '../support/postgres-control';

describe('API during a PostgreSQL outage', () => {
  let api: TestApi;
  let tokens: Record<'viewer' | 'operator' | 'guardian' | 'admin', string>;
  let targetId: string;
  let patchId: string;
  let stopped = false;

  beforeAll(async () => {
    api = await createTestApi();
    tokens = {
      viewer: await api.token(['viewer']),
      operator: await api.token(['operator']),
      guardian: await api.token(['guardian']),
      admin: await api.token(['admin']),
    };
    const target = await storedTarget(api.db, 'org/outage');
    targetId = target.id;
    patchId = randomUUID();
    await createPatch(api.db.pool, {
      id: patchId,
      workflowId: `patch-${patchId}`,
      title: 'Pin permissions',
      type: 'security',
      description: null,
      author: 'olga',
      diff: PERMISSIONS_DIFF,
      targets: [target],
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 30, windowSeconds: 300, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 1 },
      approval: { quorum: 1, timeoutSeconds: 3600 },
    });
  });
  afterAll(async () => {
    if (stopped) await startSharedPostgres();
    await api.close();
  });

  const send = (method: 'get' | 'post', path: string, role: keyof typeof tokens, body?: object) => {
    const req = request(api.app)[method](path).set('Authorization', `Bearer ${tokens[role]}`);
    return body === undefined ? req : req.send(body);
  };

  test('reads and writes answer 503 with Retry-After while it is down, and work again once it is back', async () => {
    await stopSharedPostgres();
    stopped = true;
    const calls: Array<[string, () => request.Test]> = [
      ['GET /targets', () => send('get', '/api/v1/targets', 'viewer')],
      ['GET /targets/:id', () => send('get', `/api/v1/targets/${targetId}`, 'viewer')],
      ['GET /patches', () => send('get', '/api/v1/patches', 'viewer')],
      ['GET /patches/:id', () => send('get', `/api/v1/patches/${patchId}`, 'viewer')],
      ['GET /audit', () => send('get', '/api/v1/audit', 'guardian')],
      ['POST /targets', () => send('post', '/api/v1/targets', 'operator', { name: 'org/during-outage', repoUrl: '/tmp/during-outage.git' })],
      ['POST /patches', () => send('post', '/api/v1/patches', 'operator', { title: 'Pin', type: 'security', targets: [targetId], diff: PERMISSIONS_DIFF })],
      ['POST /patches/:id/approve', () => send('post', `/api/v1/patches/${patchId}/approve`, 'guardian', { comment: 'fine' })],
      ['POST /analyses', () => send('post', '/api/v1/analyses', 'operator', { targetId })],
    ];
    const answers: string[] = [];
    for (const [name, call] of calls) {
      const started = Date.now();
      const res = await call();
      const ms = Date.now() - started;
      answers.push(`${name}: ${res.status} in ${ms} ms`);
      expect({ name, status: res.status }).toEqual({ name, status: 503 });
      expect(res.headers['retry-after']).toBe('5');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 503, detail: 'The database is not reachable right now; retry in a few seconds.' });
      expect(ms).toBeLessThan(5_000);
    }
    const readyz = await request(api.app).get('/readyz');
    expect(readyz.status).toBe(503);
    expect(readyz.body.detail).toMatch(/database: PostgreSQL is not reachable/);
    process.stdout.write(`with PostgreSQL stopped:\n  ${answers.join('\n  ')}\n`);

    await startSharedPostgres();
    stopped = false;
    let back = await send('get', '/api/v1/targets', 'viewer');
    for (let i = 0; i < 40 && back.status !== 200; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      back = await send('get', '/api/v1/targets', 'viewer');
    }
    expect(back.status).toBe(200);
    expect((await send('get', `/api/v1/patches/${patchId}`, 'viewer')).status).toBe(200);
    const created = await send('post', '/api/v1/targets', 'operator', { name: 'org/after-outage', repoUrl: '/tmp/after-outage.git' });
    expect(created.status).toBe(201);
  });
});
