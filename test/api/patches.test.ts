/**
 * The patch API's validation, authorization, read paths and refusals against a real database. Temporal is an
 * address nothing listens on: these paths must answer without it (or within their deadline); the paths that
 * reach a running workflow are covered by the lifecycle tests with a real Temporal server.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createPatchSchema } from '../../src/api/schemas';
import type { PatchSpec, PatchStatus, Target } from '../../src/domain/types';
import { listAuditEvents } from '../../src/store/audit';
import { createPatch } from '../../src/store/patches';
import { createTarget } from '../../src/store/targets';
import { createTestApi, PERMISSIONS_DIFF, type TestApi } from '../support/api';

const ACTIONS = ['approve', 'reject', 'pause', 'resume', 'abort'] as const;
const VALID_ACTION_BODIES: Record<(typeof ACTIONS)[number], object> = {
  approve: { comment: 'fine' },
  reject: { reason: 'no' },
  pause: {},
  resume: {},
  abort: { reason: 'stop' },
};


describe('patch API', () => {
  let api: TestApi;
  let operator: string;
  let guardian: string;
  let viewer: string;
  let monitored: Target;
  let verified: Target;
  let unmonitored: Target;

  const post = (path: string, token: string, body?: object) => {
    const req = request(api.app).post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`);
    return body === undefined ? req : req.send(body);
  };
  const get = (path: string, token: string) => request(api.app).get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`);
  const patchIds = (res: { body: unknown }): string[] => (res.body as { items: Array<{ id: string }> }).items.map((patch) => patch.id);
  const validBody = (overrides: Record<string, unknown> = {}) => ({ title: 'Pin permissions', type: 'security', targets: [monitored.id], diff: PERMISSIONS_DIFF, ...overrides });

  /** A patch row as the create route writes it, in a chosen status, without a workflow behind it. */
  async function storedPatch(status: PatchStatus, targets: Target[] = [monitored]): Promise<string> {
    const id = randomUUID();
    const spec: PatchSpec = {
      id,
      title: `patch in ${status}`,
      type: 'security',
      description: null,
      author: 'dev-operator',
      diff: PERMISSIONS_DIFF,
      targets,
      rollout: createPatchSchema.parse(validBody()).rollout,
      approval: { quorum: 1, timeoutSeconds: 3600 },
    };
    await createPatch(api.db.pool, { ...spec, workflowId: `patch-${id}` });
    await api.db.pool.query('UPDATE patches SET status = $2 WHERE id = $1', [id, status]);
    return id;
  }

  beforeAll(async () => {
    api = await createTestApi();
    [operator, guardian, viewer] = await Promise.all([
      api.token(['operator'], 'olga'),
      api.token(['guardian'], 'gus'),
      api.token(['viewer'], 'vera'),
    ]);
    const common = { branch: 'main', createdBy: 'test', verifyCommand: null, healthChecks: [] };
    [monitored, verified, unmonitored] = await Promise.all([
      createTarget(api.db.pool, { ...common, name: 'org/monitored', repoUrl: '/tmp/monitored.git', healthChecks: [{ type: 'http', url: 'http://127.0.0.1:9/{target}', expectStatus: 200, timeoutMs: 1000 }] }),
      createTarget(api.db.pool, { ...common, name: 'org/verified', repoUrl: '/tmp/verified.git', verifyCommand: ['true'] }),
      createTarget(api.db.pool, { ...common, name: 'org/unmonitored', repoUrl: '/tmp/unmonitored.git' }),
    ]);
  });
  afterAll(async () => {
    await api.close();
  });

  describe('the create schema', () => {
    test('fills the documented defaults', () => {
      const parsed = createPatchSchema.parse(validBody());
      expect(parsed.rollout).toEqual({
        waves: [{ percent: 10 }, { percent: 50 }, { percent: 100 }],
        health: { intervalSeconds: 30, windowSeconds: 300, failureThreshold: 1, errorThreshold: 4 },
        allowUnmonitored: false,
        parallelism: 4,
      });
      expect(parsed.approval).toEqual({ quorum: 1, timeoutSeconds: 259_200 });
      expect(parsed.quietWindows).toEqual([]);
    });

    test('fills defaults inside a partly given rollout', () => {
      const parsed = createPatchSchema.parse(validBody({ rollout: { health: { intervalSeconds: 5 } } }));
      expect(parsed.rollout.health).toEqual({ intervalSeconds: 5, windowSeconds: 300, failureThreshold: 1, errorThreshold: 4 });
      expect(parsed.rollout.waves).toHaveLength(3);
    });
  });

  describe('POST /patches refusals', () => {
    test.each([
      ['viewer', 403, () => viewer],
      ['guardian (includes operator)', 422, () => guardian],
    ])('%s with an empty body: %i', async (_name, status, token) => {
      expect((await post('/patches', token(), {})).status).toBe(status);
    });

    test.each<[string, Record<string, unknown>, string]>([
      ['an unknown field', { author: 'someone-else' }, ''],
      ['an unknown type', { type: 'hotfix' }, 'type'],
      ['an empty title', { title: '  ' }, 'title'],
      ['no targets', { targets: [] }, 'targets'],
      ['a target that is not a UUID', { targets: ['org/monitored'] }, 'targets.0'],
      ['the same target twice', { targets: ['11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-111111111111'] }, 'targets'],
      ['waves not increasing', { rollout: { waves: [{ percent: 50 }, { percent: 50 }, { percent: 100 }] } }, 'rollout.waves'],
      ['a last wave below 100', { rollout: { waves: [{ percent: 10 }, { percent: 90 }] } }, 'rollout.waves'],
      ['a wave at 0 percent', { rollout: { waves: [{ percent: 0 }, { percent: 100 }] } }, 'rollout.waves.0.percent'],
      ['a wave above 100 percent', { rollout: { waves: [{ percent: 150 }] } }, 'rollout.waves.0.percent'],
      ['an unknown rollout field', { rollout: { canary: 1 } }, 'rollout'],
      ['an interval of 0', { rollout: { health: { intervalSeconds: 0 } } }, 'rollout.health.intervalSeconds'],
      ['a window shorter than the interval', { rollout: { health: { intervalSeconds: 60, windowSeconds: 30 } } }, 'rollout.health.windowSeconds'],
      ['a parallelism of 17', { rollout: { parallelism: 17 } }, 'rollout.parallelism'],
      ['a quorum of 0', { approval: { quorum: 0 } }, 'approval.quorum'],
      ['a quorum of 11', { approval: { quorum: 11 } }, 'approval.quorum'],
      ['an approval timeout under a minute', { approval: { timeoutSeconds: 59 } }, 'approval.timeoutSeconds'],
      ['an approval timeout over 30 days', { approval: { timeoutSeconds: 30 * 86_400 + 1 } }, 'approval.timeoutSeconds'],
      ['distinct groups that are not a boolean', { approval: { distinctGroups: 'yes' } }, 'approval.distinctGroups'],
      ['an empty diff', { diff: '' }, 'diff'],
      ['a quiet window on an unknown day', { quietWindows: [{ days: ['someday'], start: '00:00', end: '06:00' }] }, 'quietWindows.0.days.0'],
      ['a quiet window naming a day twice', { quietWindows: [{ days: ['sat', 'sat'], start: '00:00', end: '06:00' }] }, 'quietWindows.0.days'],
      ['a quiet window starting at 25:00', { quietWindows: [{ days: ['sat'], start: '25:00', end: '06:00' }] }, 'quietWindows.0.start'],
      ['a quiet window ending at 6:00', { quietWindows: [{ days: ['sat'], start: '00:00', end: '6:00' }] }, 'quietWindows.0.end'],
      ['a quiet window from 10:00 to 10:00', { quietWindows: [{ days: ['sat'], start: '10:00', end: '10:00' }] }, 'quietWindows.0'],
      ['quiet windows covering the whole week', { quietWindows: [{ days: ['sun', 'mon', 'tue', 'wed'], start: '00:00', end: '24:00' }, { days: ['thu', 'fri', 'sat'], start: '00:00', end: '24:00' }] }, 'quietWindows'],
    ])('422 for %s, naming the field', async (_name, overrides, field) => {
      const res = await post('/patches', operator, validBody(overrides));
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((res.body as { errors: Array<{ path: string }> }).errors.map((error) => error.path)).toContain(field);
    });

    test('422 naming every missing target', async () => {
      const missing = [randomUUID(), randomUUID()];
      const res = await post('/patches', operator, validBody({ targets: [monitored.id, ...missing] }));
      expect(res.status).toBe(422);
      expect(res.body.missingTargets).toEqual(missing);
      expect(res.body.detail).toContain(missing[0]);
      expect(res.body.detail).toContain(missing[1]);
    });

    test.each([
      ['a path escaping the repository', '../outside.yml'],
      ['an absolute path', '/etc/passwd'],
      ['a path inside .git', '.git/config'],
    ])('422 listing the problems for %s', async (_name, file) => {
      const diff = `--- a/${file}\n+++ b/${file}\n@@ -1 +1 @@\n-a\n+b\n`;
      const res = await post('/patches', operator, validBody({ diff }));
      expect(res.status).toBe(422);
      expect(res.body.diffProblems).toEqual(expect.arrayContaining([expect.objectContaining({ line: expect.any(Number), reason: expect.any(String) })]));
      expect(res.body.diffProblems.length).toBeGreaterThan(0);
    });

    test('422 for a target without health checks or verifyCommand, naming it', async () => {
      const res = await post('/patches', operator, validBody({ targets: [monitored.id, verified.id, unmonitored.id] }));
      expect(res.status).toBe(422);
      expect(res.body.detail).toContain('org/unmonitored');
      expect(res.body.detail).not.toContain('org/verified');
      expect(res.body.unmonitoredTargets).toEqual([unmonitored.id]);
    });

    test('allowUnmonitored lets an unmonitored target through; a lifecycle Temporal does not start is stored as failed', async () => {
      const started = Date.now();
      const res = await post('/patches', operator, validBody({ title: 'Unmonitored', targets: [unmonitored.id], rollout: { allowUnmonitored: true } }));
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(20_000);
      const { rows } = await api.db.pool.query<{ status: string; status_reason: string }>('SELECT status, status_reason FROM patches WHERE title = $1', ['Unmonitored']);
      expect(rows).toEqual([{ status: 'failed', status_reason: expect.stringMatching(/^the lifecycle workflow could not be started: /) }]);
    }, 30_000);

    test('a refused create leaves no patch behind', async () => {
      const { rows } = await api.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM patches WHERE title = $1', ['Pin permissions']);
      expect(Number(rows[0]?.n)).toBe(0);
    });
  });

  describe('reads', () => {
    let pendingId: string;
    let deployedId: string;

    beforeAll(async () => {
      pendingId = await storedPatch('pending', [monitored, verified]);
      deployedId = await storedPatch('deployed', [verified]);
    });

    test('a viewer lists patches, filtered by status and by target', async () => {
      const all = await get('/patches', viewer);
      expect(all.status).toBe(200);
      expect(patchIds(all)).toEqual(expect.arrayContaining([pendingId, deployedId]));

      const deployed = await get('/patches?status=deployed', viewer);
      expect(patchIds(deployed)).toContain(deployedId);
      expect(patchIds(deployed)).not.toContain(pendingId);

      const onMonitored = await get(`/patches?target=${monitored.id}`, viewer);
      expect(patchIds(onMonitored)).toContain(pendingId);
      expect(patchIds(onMonitored)).not.toContain(deployedId);
    });

    test('a list row is lean: a target count instead of ids, and no description, rollout or approval', async () => {
      const items = (await get('/patches', viewer)).body.items as Array<Record<string, unknown>>;
      const row = items.find((patch) => patch.id === pendingId) ?? {};
      expect(row).toMatchObject({ id: pendingId, status: 'pending', targetCount: 2 });
      expect(Object.keys(row).sort()).toEqual(['author', 'createdAt', 'diffSha256', 'id', 'status', 'statusReason', 'targetCount', 'title', 'type', 'updatedAt', 'workflowId']);
    });

    test('pages list every patch exactly once while new patches arrive, with filters kept across pages', async () => {
      const existing = await Promise.all(Array.from({ length: 11 }, () => storedPatch('deployed', [unmonitored])));
      const others = await Promise.all([storedPatch('pending', [unmonitored]), storedPatch('deployed', [verified])]);
      const arrived: string[] = [];
      const seen: string[] = [];
      let route: string | null = `/patches?status=deployed&target=${unmonitored.id}&limit=3`;
      let pages = 0;
      while (route) {
        const res = await get(route, viewer);
        expect(res.status).toBe(200);
        seen.push(...patchIds(res));
        pages += 1;
        // A newer patch matching the filters after every page: it must not push a listed one onto the next page.
        arrived.push(await storedPatch('deployed', [unmonitored]));
        const link: string | undefined = res.headers.link;
        if (res.body.next === null) {
          expect(link).toBeUndefined();
          route = null;
        } else {
          expect(link).toBe(`</api/v1/patches?status=deployed&target=${unmonitored.id}&limit=3&cursor=${res.body.next}>; rel="next"`);
          route = link?.replace(/^<\/api\/v1(.*)>; rel="next"$/, '$1') ?? null;
        }
      }
      expect(pages).toBe(4);
      expect(seen).toHaveLength(existing.length);
      expect(new Set(seen)).toEqual(new Set(existing));
      expect(seen.some((id) => arrived.includes(id) || others.includes(id))).toBe(false);
      // The first page now starts with the arrivals, newest first.
      expect(patchIds(await get(`/patches?status=deployed&target=${unmonitored.id}&limit=${arrived.length}`, viewer))).toEqual([...arrived].reverse());
    });

    test.each([
      ['not base64url', 'a+b/c='],
      ['base64url of something else', Buffer.from('hello').toString('base64url')],
      ['a position without an id', Buffer.from('1700000000000000').toString('base64url')],
      ['an id that is not a UUID', Buffer.from('1700000000000000:org/monitored').toString('base64url')],
      ['a time past what a cursor can hold', Buffer.from(`99999999999999999:${randomUUID()}`).toString('base64url')],
      ['a negative time', Buffer.from(`-1:${randomUUID()}`).toString('base64url')],
      ['a very long value', 'A'.repeat(10_000)],
      ['empty', ''],
    ])('400 problem+json for a cursor that is %s', async (_name, cursor) => {
      const res = await get(`/patches?cursor=${encodeURIComponent(cursor)}`, viewer);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.errors).toEqual([{ path: 'query.cursor', message: 'The query parameter cursor must be the `next` of an earlier page of this list.' }]);
    });

    test('400 for a cursor given twice', async () => {
      const next = (await get('/patches?limit=1', viewer)).body.next as string;
      expect((await get(`/patches?cursor=${next}&cursor=${next}`, viewer)).status).toBe(400);
    });

    test('400 for an unknown status or a target that is not an id', async () => {
      expect((await get('/patches?status=done', viewer)).status).toBe(400);
      expect((await get('/patches?target=org/monitored', viewer)).status).toBe(400);
    });

    test('a finished patch is read from the read model alone', async () => {
      const started = Date.now();
      const res = await get(`/patches/${deployedId}`, viewer);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: deployedId, status: 'deployed', workflowId: `patch-${deployedId}`, live: null });
      expect(Date.now() - started).toBeLessThan(1_500);
    });

    test('an open patch is read from the read model at once while no worker sends heartbeats', async () => {
      const started = Date.now();
      const res = await get(`/patches/${pendingId}`, viewer);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: pendingId, status: 'pending', live: null });
      expect(Date.now() - started).toBeLessThan(1_000);
    });

    test('404 for an unknown patch, 400 for an id that is not a UUID, 401 without a token', async () => {
      expect((await get(`/patches/${randomUUID()}`, viewer)).status).toBe(404);
      expect((await get('/patches/nope', viewer)).status).toBe(400);
      expect((await request(api.app).get('/api/v1/patches')).status).toBe(401);
    });
  });

  describe('Guardian actions', () => {
    let pendingId: string;
    let finishedId: string;

    beforeAll(async () => {
      pendingId = await storedPatch('awaiting_approval');
      finishedId = await storedPatch('rolled_back');
    });

    test.each(ACTIONS)('/%s is for guardians only (operator 403, admin 403)', async (action) => {
      const admin = await api.token(['admin'], 'ada');
      expect((await post(`/patches/${pendingId}/${action}`, operator, VALID_ACTION_BODIES[action])).status).toBe(403);
      expect((await post(`/patches/${pendingId}/${action}`, admin, VALID_ACTION_BODIES[action])).status).toBe(403);
    });

    test.each<[string, object]>([
      ['reject', {}],
      ['reject', { reason: '   ' }],
      ['abort', {}],
      ['approve', { comment: 'ok', extra: true }],
      ['resume', { reason: 'not taken' }],
    ])('/%s with body %j: 422', async (action, body) => {
      expect((await post(`/patches/${pendingId}/${action}`, guardian, body)).status).toBe(422);
    });

    test.each(ACTIONS)('/%s on an unknown patch: 404', async (action) => {
      expect((await post(`/patches/${randomUUID()}/${action}`, guardian, VALID_ACTION_BODIES[action])).status).toBe(404);
    });

    test('abort of a finished patch: 409 with the reason, recorded in the audit trail', async () => {
      const res = await post(`/patches/${finishedId}/abort`, guardian, { reason: 'too late' }).set('X-Request-Id', 'abort-finished-1');
      expect(res.status).toBe(409);
      expect(res.body.detail).toMatch(/rolled_back.*nothing to abort/);
      const events = await listAuditEvents(api.db.pool, { subjectType: 'patch', subjectId: finishedId });
      expect(events).toEqual([
        expect.objectContaining({
          action: 'patch.action_refused',
          actor: 'gus',
          roles: ['guardian'],
          requestId: 'abort-finished-1',
          status: 409,
          details: { action: 'abort', reason: res.body.detail },
        }),
      ]);
    });

    test('an action Temporal cannot confirm in time: 503 that asks for a retry with the same request id', async () => {
      const started = Date.now();
      const res = await post(`/patches/${pendingId}/approve`, guardian, { comment: 'fine' });
      expect(res.status).toBe(503);
      expect(res.body.detail).toMatch(/X-Request-Id/);
      // The client's retry backoff may sleep past the 10 s deadline once before the call gives up.
      expect(Date.now() - started).toBeLessThan(20_000);
    }, 30_000);
  });
});
