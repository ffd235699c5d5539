/**
 * Agent policies through the API against a real database and a real Temporal dev server (no worker: no cycle
 * runs here): validation with sentences naming the field, roles, each policy's Schedule created, updated, paused,
 * resumed and deleted with it (checked with the schedule's describe), audit events, 503 with nothing stored when
 * Temporal is down, the policy file loaded idempotently at start, and target labels.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import pino from 'pino';
import request from 'supertest';
import { prepareAgentPolicies } from '../../src/agent/policies';
import { ConfigError } from '../../src/config';
import { listAuditEvents } from '../../src/store/audit';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server';
import { freePort } from '../../src/util/free-port';
import { createTestApi, storedTarget, type TestApi } from '../support/api';
import { sharedTestState } from '../support/shared-state';

const POLICY = {
  name: 'hygiene',
  targets: { nameGlob: 'org/*', labels: { team: 'payments' } },
  schedule: { interval: '6h' },
  rules: ['missing-job-timeout', 'checkout-persisted-credentials'],
  unsafe: true,
  quietWindows: [{ days: ['sat', 'sun'], start: '00:00', end: '24:00' }],
  approval: { minimumRisky: 2 },
};

describe('policy API', () => {
  let server: DevServer;
  let client: Client;
  let api: TestApi;
  let admin: string;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    const state = sharedTestState();
    const port = await freePort();
    server = await startDevServer({ cliPath: state.temporalCli, dbFile: path.join(state.scratch, `policies-${port}.db`), port, uiPort: await freePort(), namespace: 'default' });
    client = new Client({ connection: await Connection.connect({ address: server.address }) });
    api = await createTestApi({ temporalClient: client });
    [admin, operator, viewer] = await Promise.all([api.token(['admin'], 'ada'), api.token(['operator'], 'olga'), api.token(['viewer'], 'vic')]);
  }, 120_000);

  afterAll(async () => {
    await api.close();
    await client.connection.close();
    await server.stop();
  });

  const send = (method: 'post' | 'put' | 'delete', url: string, token: string, body?: object) => {
    const req = request(api.app)[method](`/api/v1${url}`).set('Authorization', `Bearer ${token}`);
    return body === undefined ? req : req.send(body);
  };
  const get = (url: string, token = viewer) => request(api.app).get(`/api/v1${url}`).set('Authorization', `Bearer ${token}`);
  const schedule = (policyId: string) => client.schedule.getHandle(`agent-${policyId}`);
  const policyRows = async (): Promise<number> => Number((await api.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM agent_policies')).rows[0]?.n);

  test('an admin creates, reads, changes, pauses, resumes and deletes a policy and its schedule', async () => {
    expect((await send('post', '/policies', operator, POLICY)).status).toBe(403);
    const created = await send('post', '/policies', admin, POLICY);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'hygiene', spec: { grouping: 'per-rule', minSeverity: 'low', maxOpenPatches: 5, quietWindows: POLICY.quietWindows, approval: { minimumRisky: 2 } }, createdBy: 'ada' });
    const id = String(created.body.id);

    const described = await schedule(id).describe();
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 6 * 3600 * 1000 })]);
    expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 600_000 });
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'agentCycleWorkflow', args: [{ policyId: id }] });

    expect(((await get('/policies')).body.items as Array<{ id: string }>).map((policy) => policy.id)).toEqual([id]);
    expect((await get(`/policies/${id}`)).body.schedule).toMatchObject({ paused: false });
    expect((await send('post', '/policies', admin, POLICY)).status).toBe(409);

    const changed = await send('put', `/policies/${id}`, admin, { ...POLICY, schedule: { cron: '0 3 * * mon' } });
    expect(changed.status).toBe(200);
    expect((await schedule(id).describe()).spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 3, end: 3, step: 1 }], dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY', step: 1 }] })]);

    expect((await send('post', `/policies/${id}/pause`, operator, {})).status).toBe(403);
    expect((await send('post', `/policies/${id}/pause`, admin, { note: 'freeze week' })).status).toBe(200);
    expect((await schedule(id).describe()).state).toMatchObject({ paused: true, note: 'pause by ada: freeze week' });
    expect((await send('post', `/policies/${id}/resume`, admin, {})).body.schedule).toMatchObject({ paused: false });
    expect((await get(`/policies/${id}/cycles`)).body).toEqual({ items: [] });

    expect((await send('delete', `/policies/${id}`, admin)).status).toBe(204);
    await expect(schedule(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect((await get(`/policies/${id}`)).status).toBe(404);

    const actions = (await listAuditEvents(api.db.pool, { subjectType: 'policy', subjectId: id })).map((event) => `${event.actor} ${event.action}`);
    expect(actions).toEqual(['ada policy.created', 'ada policy.updated', 'ada policy.pause_requested', 'ada policy.resume_requested', 'ada policy.deleted']);
  });

  test('a run asked for starts a cycle at once, even while one runs and within the same second: it is never dropped as an overlapping tick is', async () => {
    const id = String((await send('post', '/policies', admin, { ...POLICY, name: 'run-twice' })).body.id);
    // No worker polls this test's task queue: a cycle runs until it is terminated. Both asked for at once.
    const runs = await Promise.all([send('post', `/policies/${id}/run`, admin, {}), send('post', `/policies/${id}/run`, admin, {})]);
    expect(runs.map((run) => run.status)).toEqual([202, 202]);
    const workflowIds = runs.map((run) => String(run.body.cycle.workflowId));
    expect(new Set(workflowIds).size).toBe(2);
    for (const workflowId of workflowIds) {
      expect(workflowId.startsWith(`agent-cycle-${id}-run-`)).toBe(true);
      const description = await client.workflow.getHandle(workflowId).describe();
      expect([description.type, description.status.name]).toEqual(['agentCycleWorkflow', 'RUNNING']);
    }
    for (const workflowId of workflowIds) await client.workflow.getHandle(workflowId).terminate('the test ends it');
    expect((await send('delete', `/policies/${id}`, admin)).status).toBe(204);
    const actions = (await listAuditEvents(api.db.pool, { subjectType: 'policy', subjectId: id })).map((event) => event.action);
    expect(actions.filter((action) => action === 'policy.run_requested')).toHaveLength(2);
  });

  test.each([
    [{ ...POLICY, name: 'Hygiene!' }, 'name', 'name must be 1 to 63 lowercase letters'],
    [{ ...POLICY, schedule: { cron: '0 3 * *' } }, 'schedule.cron', 'has 4 field(s)'],
    [{ ...POLICY, schedule: { interval: 'weekly' } }, 'schedule.interval', 'must be a duration such as "6h"'],
    [{ ...POLICY, rules: ['no-such-rule'] }, 'rules.0', 'is not a rule of the analyzer'],
    [{ ...POLICY, grouping: 'per-team' }, 'grouping', 'must be per-rule or per-target'],
    [{ ...POLICY, quietWindows: [{ days: ['sat'], start: '23:00', end: '23:00' }] }, 'quietWindows.0', 'start and end are the same time'],
    [{ ...POLICY, rollout: { waves: [{ percent: 50 }] } }, 'rollout.waves', 'the last wave must be at 100 percent'],
  ])('refuses %j naming %s', async (body, field, message) => {
    const before = await policyRows();
    const res = await send('post', '/policies', admin, body);
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors[0].path).toBe(field);
    expect(res.body.errors[0].message).toContain(message);
    expect(await policyRows()).toBe(before);
  });

  test('viewers read, only admins change; unknown ids are 404, bad ids 400', async () => {
    expect((await get('/policies', viewer)).status).toBe(200);
    expect((await send('post', '/policies', viewer, POLICY)).status).toBe(403);
    expect((await send('put', '/policies/00000000-0000-4000-8000-000000000000', admin, POLICY)).status).toBe(404);
    expect((await send('delete', '/policies/00000000-0000-4000-8000-000000000000', admin)).status).toBe(404);
    expect((await send('post', '/policies/00000000-0000-4000-8000-000000000000/run', admin, {})).status).toBe(404);
    expect((await get('/policies/not-a-uuid')).status).toBe(400);
  });

  test('with Temporal down, creating a policy answers 503 and stores nothing', async () => {
    const offline = await createTestApi();
    try {
      const token = await offline.token(['admin'], 'ada');
      const res = await request(offline.app).post('/api/v1/policies').set('Authorization', `Bearer ${token}`).send(POLICY);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toContain('nothing was changed');
      expect((await offline.db.pool.query('SELECT * FROM agent_policies')).rows).toEqual([]);
      expect(await listAuditEvents(offline.db.pool, { subjectType: 'policy' })).toEqual([]);
    } finally {
      await offline.close();
    }
  }, 60_000);

  test('the policy file is loaded at start: created by name, again without changes, then updated; a bad file names its line', async () => {
    const file = path.join(sharedTestState().scratch, `policies-${Date.now()}.yml`);
    const yaml = (interval: string) => `policies:\n  - name: from-git\n    targets: all\n    schedule: { interval: ${interval} }\n    rules: [missing-job-timeout]\n  - name: from-git-too\n    targets: { labels: { team: payments } }\n    schedule: { cron: "@daily" }\n    rules: [checkout-persisted-credentials]\n`;
    writeFileSync(file, yaml('6h'));
    const temporal = { client, taskQueue: api.config.temporal.taskQueue };
    const logger = pino({ level: 'silent' });
    const fileEvents = async () => (await listAuditEvents(api.db.pool, { actor: 'system:policy-file' })).map((event) => event.action);

    await prepareAgentPolicies(api.db.pool, temporal, file, logger);
    const loaded = ((await get('/policies')).body.items as Array<{ id: string; name: string }>).filter((policy) => policy.name.startsWith('from-git'));
    const fromGit = loaded.find((policy) => policy.name === 'from-git');
    expect(loaded.map((policy) => policy.name).sort()).toEqual(['from-git', 'from-git-too']);
    expect((await schedule(fromGit?.id ?? '').describe()).spec.intervals).toEqual([expect.objectContaining({ every: 6 * 3600 * 1000 })]);
    expect(await fileEvents()).toEqual(['policy.created', 'policy.created']);

    await prepareAgentPolicies(api.db.pool, temporal, file, logger);
    expect(await fileEvents()).toEqual(['policy.created', 'policy.created']);

    writeFileSync(file, yaml('12h'));
    await prepareAgentPolicies(api.db.pool, temporal, file, logger);
    expect(await fileEvents()).toEqual(['policy.created', 'policy.created', 'policy.updated']);
    expect((await schedule(fromGit?.id ?? '').describe()).spec.intervals).toEqual([expect.objectContaining({ every: 12 * 3600 * 1000 })]);

    // A schedule deleted behind the record's back (the Web UI) is derived again from the row at the next start.
    await schedule(fromGit?.id ?? '').delete();
    await prepareAgentPolicies(api.db.pool, temporal, undefined, logger);
    expect((await schedule(fromGit?.id ?? '').describe()).spec.intervals).toEqual([expect.objectContaining({ every: 12 * 3600 * 1000 })]);

    writeFileSync(file, yaml('12h').replace('missing-job-timeout', 'missing-job-timout'));
    const error = await prepareAgentPolicies(api.db.pool, temporal, file, logger).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(new RegExp(`^invalid setting AGENT_POLICY_FILE: .*policies-\\d+\\.yml line 5: policies\\.0\\.rules\\.0: is not a rule of the analyzer`));
  });

  test('target labels: set at registration, replaced by an operator, audited, validated', async () => {
    const created = await send('post', '/targets', operator, { name: 'org/labelled', repoUrl: 'https://git.example.com/org/labelled.git', labels: { team: 'payments', 'example.com/tier': '1' } });
    expect(created.status).toBe(201);
    expect(created.body.labels).toEqual({ team: 'payments', 'example.com/tier': '1' });
    const id = String(created.body.id);
    expect((await send('put', `/targets/${id}/labels`, viewer, { labels: {} })).status).toBe(403);
    const changed = await send('put', `/targets/${id}/labels`, operator, { labels: { team: 'search' } });
    expect(changed.status).toBe(200);
    expect((await get(`/targets/${id}`)).body.labels).toEqual({ team: 'search' });
    const events = await listAuditEvents(api.db.pool, { subjectType: 'target', subjectId: id, action: 'target.labels_changed' });
    expect(events.map((event) => event.details)).toEqual([{ name: 'org/labelled', before: { team: 'payments', 'example.com/tier': '1' }, after: { team: 'search' } }]);

    const refused = await send('put', `/targets/${id}/labels`, operator, { labels: { 'not a key': 'x' } });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0]).toMatchObject({ path: 'labels.not a key' });
    expect((await send('put', `/targets/${id}/labels`, operator, { labels: { team: 'x'.repeat(64) } })).status).toBe(422);
    expect((await send('put', '/targets/00000000-0000-4000-8000-000000000000/labels', operator, { labels: {} })).status).toBe(404);
    expect((await storedTarget(api.db, 'org/plain')).labels).toEqual({});
  });
});
