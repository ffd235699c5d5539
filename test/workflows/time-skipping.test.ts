/**
 * Long waits on the time-skipping test server: what takes days in real time (an approval deadline, a rollout
 * watched for days) runs in seconds, with the real workflow code and real activities.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { loadConfig } from '../../src/config';
import { WEEKDAYS } from '../../src/domain/types';
import { approveUpdate, patchLifecycleWorkflow, patchStatusQuery } from '../../src/workflows/patch-lifecycle';
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

  /** A worker with the real activities on `taskQueue` of the time-skipping server. */
  function lifecycleWorker(taskQueue: string): Promise<Worker> {
    const state = sharedTestState();
    const config = loadConfig({ DATA_DIR: state.scratch, ALLOW_LOCAL_REPOS: 'true' });
    return Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: state.workflowBundlePath },
      activities: createActivities({ config, pool: db.pool, logger: pino({ level: 'silent' }) }),
    });
  }

  test('a patch nobody approves expires after its 3-day deadline', async () => {
    const state = sharedTestState();
    const fixtures = patchFixtures(db, state.scratch);
    const targets = await fixtures.createTargets(1);
    const spec = await fixtures.spec(targets, { approval: { quorum: 1, timeoutSeconds: 3 * 86_400 } });
    const worker = await lifecycleWorker('time-skipping');
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

  test('an approved patch deploys nothing during its quiet window and deploys when the window ends', async () => {
    const state = sharedTestState();
    const fixtures = patchFixtures(db, state.scratch);
    const targets = await fixtures.createTargets(1, { monitored: false });
    const now = new Date(await env.currentTimeMs());
    // Today and tomorrow (UTC) are quiet: the window ends at least a day from now.
    const today = now.getUTCDay();
    const days = [WEEKDAYS[today]!, WEEKDAYS[(today + 1) % 7]!];
    const windowEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 2);
    const spec = {
      ...(await fixtures.spec(targets, { rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1, failureThreshold: 1 }, allowUnmonitored: true, parallelism: 1 } })),
      quietWindows: [{ days, start: '00:00', end: '24:00' }],
    };
    const worker = await lifecycleWorker('time-skipping-quiet');
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(patchLifecycleWorkflow, { taskQueue: 'time-skipping-quiet', workflowId: `patch-${spec.id}`, args: [spec] });
      for (let i = 0; i < 600 && (await handle.query(patchStatusQuery)).status !== 'awaiting_approval'; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
      let waiting = await handle.query(patchStatusQuery);
      for (let i = 0; i < 100 && !waiting.currentStep.includes('quiet window'); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        waiting = await handle.query(patchStatusQuery);
      }
      expect(waiting).toMatchObject({ status: 'deploying', currentStep: `wave 1: quiet window until ${new Date(windowEnd).toISOString()}, nothing is deployed before then`, deployments: [] });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'deployed', statusReason: 'deployed to 1 target(s)' });
      expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(windowEnd);
    });
    expect(fixtures.commitsWithTrailer(targets[0]!, 'Patch-Id', spec.id)).toHaveLength(1);
  });
});
