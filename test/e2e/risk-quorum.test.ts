/**
 * Approval that scales with risk, end to end through the real API: a Temporal dev server, a worker with the real
 * activities, PostgreSQL and bare git repositories as targets. A patch that changes permissions needs a second
 * Guardian before it deploys; a quorum of distinct groups counts two Guardians of one group once.
 */
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { createAuthenticator } from '../../src/api/auth';
import { signToken } from '../../src/api/dev-tokens';
import type { PatchState } from '../../src/domain/types';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { ciWorkflowDiff, createLifecycleHarness, type LifecycleHarness, TIMEOUT_DIFF, waitForStatus } from '../support/lifecycle';

jest.setTimeout(240_000);

/** Gives the build job its own `permissions:` (the workflow's, repeated): not wider, so the tests pass, but a permissions change. */
const JOB_PERMISSIONS_DIFF = ciWorkflowDiff('@@ -5,6 +5,8 @@ permissions:', [
  ' jobs:',
  '   build:',
  '     runs-on: ubuntu-latest',
  '+    permissions:',
  '+      contents: read',
  '     steps:',
  '       - uses: actions/checkout@v4',
  '       - run: make',
]);

const QUICK_ROLLOUT = { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1 } };

describe('approval that scales with risk', () => {
  let h: LifecycleHarness;
  let app: Express;
  let operator: string;
  const guardians: Record<string, string> = {};

  beforeAll(async () => {
    h = await createLifecycleHarness();
    await ensureSearchAttributes(h.client, 'default');
    app = createApp({ config: h.config, pool: h.db.pool, temporalClient: h.client, authenticator: createAuthenticator(h.config.auth), logger: pino({ level: 'silent' }) });
    const secret = h.config.auth.jwtSecret ?? '';
    operator = await signToken(secret, 'olga', ['operator']);
    const groupsOf: Record<string, string[]> = { gus: ['sre'], gwen: ['sre'], sam: ['security', 'sre'] };
    for (const [name, groups] of Object.entries(groupsOf)) guardians[name] = await signToken(secret, name, ['guardian'], '1h', { groups });
  }, 120_000);

  afterAll(async () => {
    await h.close();
  });

  const post = (path: string, token: string, body: object) => request(app).post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body);
  const get = (path: string) => request(app).get(`/api/v1${path}`).set('Authorization', `Bearer ${operator}`);
  const approve = async (patchId: string, guardian: string): Promise<PatchState> => {
    const res = await post(`/patches/${patchId}/approve`, guardians[guardian] ?? '', { comment: `${guardian} approves` });
    expect(res.status).toBe(200);
    return res.body.state as PatchState;
  };

  test('a permissions-changing patch needs two Guardians: after one it still waits, showing the quorum and why; the second lets it deploy', async () => {
    const [target] = await h.createTargets(1);
    await h.runWorker(
      (async () => {
        const created = await post('/patches', operator, { title: 'Give the build job its own permissions', type: 'security', targets: [target?.id], diff: JOB_PERMISSIONS_DIFF, rollout: QUICK_ROLLOUT });
        expect(created.status).toBe(202);
        const reason = `${target?.name}: .github/workflows/ci.yml changes permissions of job build (from no permissions block (repository default, possibly write-all) to contents: read)`;
        expect(created.body.approval).toEqual({ quorum: 2, requestedQuorum: 1, reasons: [reason], timeoutSeconds: 259_200 });
        const patchId = String(created.body.id);
        const handle = h.client.workflow.getHandle(`patch-${patchId}`);

        await waitForStatus(handle, 'awaiting_approval');
        const afterOne = await approve(patchId, 'gus');
        expect(afterOne.status).toBe('awaiting_approval');
        expect(afterOne.statusReason).toBe('needs 2 approval(s) within 259200 s');
        const waiting = await get(`/patches/${patchId}`);
        expect(waiting.body).toMatchObject({ status: 'awaiting_approval', approval: { quorum: 2, reasons: [reason] } });
        expect(waiting.body.approvals).toEqual([expect.objectContaining({ guardian: 'gus', decision: 'approved', groups: ['sre'] })]);

        await approve(patchId, 'gwen');
        // The run's result: its bookkeeping is settled, so the read model shows the end too.
        expect((await handle.result()).status).toBe('deployed');
        const deployed = await get(`/patches/${patchId}`);
        expect(deployed.body.status).toBe('deployed');
        expect(deployed.body.transitions).toEqual(expect.arrayContaining([expect.objectContaining({ to: 'deploying', reason: 'approved by gus, gwen' })]));
        expect(target && h.commitsWithTrailer(target, 'Approved-by', 'gwen')).toHaveLength(1);
      })(),
    );
  });

  test('a quorum of distinct groups: two Guardians of one group count once, one of another group completes it', async () => {
    const [target] = await h.createTargets(1);
    await h.runWorker(
      (async () => {
        const created = await post('/patches', operator, { title: 'Add a job timeout', type: 'performance', targets: [target?.id], diff: TIMEOUT_DIFF, rollout: QUICK_ROLLOUT, approval: { quorum: 2, distinctGroups: true } });
        expect(created.status).toBe(202);
        expect(created.body.approval).toMatchObject({ quorum: 2, requestedQuorum: 2, distinctGroups: true, reasons: [expect.stringMatching(/^no risky change/), 'the request asks for 2 approvals'] });
        const patchId = String(created.body.id);
        const handle = h.client.workflow.getHandle(`patch-${patchId}`);

        await waitForStatus(handle, 'awaiting_approval');
        await approve(patchId, 'gus');
        const sameGroup = await approve(patchId, 'gwen');
        expect(sameGroup.status).toBe('awaiting_approval');
        expect(sameGroup.statusReason).toBe('needs 2 approval(s) from Guardians of distinct groups within 259200 s');
        expect(sameGroup.approvals.map((approval) => approval.groups)).toEqual([['sre'], ['sre']]);

        // sam is in `sre` too, but also in `security`: counted with that one, the quorum is met.
        await approve(patchId, 'sam');
        // The run's result: its bookkeeping is settled, so the read model shows the end too.
        expect((await handle.result()).status).toBe('deployed');
        const deployed = await get(`/patches/${patchId}`);
        const approvals = deployed.body.approvals as Array<{ guardian: string; groups: string[] }>;
        expect(approvals.map((approval) => [approval.guardian, approval.groups])).toEqual([
          ['gus', ['sre']],
          ['gwen', ['sre']],
          ['sam', ['security', 'sre']],
        ]);
      })(),
    );
  });
});
