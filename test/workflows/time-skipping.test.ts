/**
 * Long waits on the time-skipping test server: what takes days in real time (an approval deadline, a rollout
 * watched for days) runs in seconds, with the real workflow code and real activities.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { loadConfig } from '../../src/config';
import { patchLifecycleWorkflow, patchStatusQuery } from '../../src/workflows/patch-lifecycle';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { patchFixtures } from '../support/lifecycle';
import { sharedTestState } from '../support/shared-state';

jest.setTimeout(120_000);

describe('on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  beforeAll(async () => {
    const state = sharedTestState();
    [env, db] = await Promise.all([TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: state.temporalTestServer } } }), createTestDatabase()]);
  });
  afterAll(async () => {
    await env?.teardown();
    await db?.drop();
  });

  test('a patch nobody approves expires after its 3-day deadline', async () => {
    const state = sharedTestState();
    const fixtures = patchFixtures(db, state.scratch);
    const targets = await fixtures.createTargets(1);
    const spec = await fixtures.spec(targets, { approval: { quorum: 1, timeoutSeconds: 3 * 86_400 } });
    const config = loadConfig({ DATA_DIR: state.scratch, ALLOW_LOCAL_REPOS: 'true' });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'time-skipping',
      workflowBundle: { codePath: state.workflowBundlePath },
      activities: createActivities({ config, pool: db.pool, logger: pino({ level: 'silent' }) }),
    });
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(patchLifecycleWorkflow, { taskQueue: 'time-skipping', workflowId: `patch-${spec.id}`, args: [spec] });
      const started = await env.currentTimeMs();
      const final = await handle.result();
      expect((await env.currentTimeMs()) - started).toBeGreaterThanOrEqual(3 * 86_400_000);
      expect(await handle.query(patchStatusQuery)).toMatchObject({ status: 'expired' });
      return final;
    });
    expect(result.status).toBe('expired');
    expect(result.statusReason).toBe('no quorum of 1 within 259200 s');
  });
});
