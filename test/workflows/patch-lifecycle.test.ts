/**
 * The patch lifecycle end to end on real parts: Temporal dev server, the worker with the real activities,
 * PostgreSQL, bare git repositories and a controllable HTTP health endpoint.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { TEST_STAGES } from '../../src/domain/types';
import { listAuditEvents } from '../../src/store/audit';
import { getPatch } from '../../src/store/patches';
import { abortSignal, approveUpdate, pauseUpdate, patchLifecycleWorkflow, patchStatusQuery, rejectUpdate, resumeUpdate } from '../../src/workflows/patch-lifecycle';
import { patchStatusKey, patchTargetsKey, patchTypeKey } from '../../src/workflows/search-attributes';
import { approveWhenReady, CI_WORKFLOW, ciWorkflowDiff, createLifecycleHarness, insertIntoBuildJob, type LifecycleHarness, waitForStatus } from '../support/lifecycle';

jest.setTimeout(180_000);

describe('patch lifecycle workflow', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await createLifecycleHarness();
  }, 120_000);
  afterAll(async () => {
    await h.close();
  });

  test('happy path: tested, approved, deployed in 3 waves over 5 targets, each target committed once', async () => {
    const targets = await h.createTargets(5);
    const spec = await h.spec(targets);
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: 'looks good' }] });
        return handle.result();
      })(),
    );
    h.recordHistory(handle, 'deployed-3-waves');
    expect(result.status).toBe('deployed');
    expect(result.waves.map((wave) => wave.length)).toEqual([1, 2, 2]);
    expect(result.tests.filter((t) => t.passed)).toHaveLength(25);
    for (const target of targets) expect(h.commitsWithTrailer(target, 'Patch-Id', spec.id)).toHaveLength(1);
    const stored = await getPatch(h.db.pool, spec.id);
    expect(stored?.status).toBe('deployed');
    expect(stored?.deployments.map((deployment) => [deployment.status, deployment.deployedCommit !== null])).toEqual(targets.map(() => ['deployed', true]));
    // The deploy activities stored their outcomes: the workflow recorded each deployment once, before its deploy.
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduledEvents = events.flatMap((event) => event.activityTaskScheduledEventAttributes ?? []);
    // One marker for every change of the command sequence so far, and no upsert of what the run started with.
    const decoded = (payload: { data?: Uint8Array | null }): unknown => JSON.parse(Buffer.from(payload.data ?? []).toString('utf8'));
    const markers = events.flatMap((event) => event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []);
    expect(markers.map(decoded)).toEqual([{ id: 'lifecycle-v3', deprecated: false }]);
    const statuses = events.flatMap((event) => event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.PatchStatus ?? []);
    expect(statuses.map(decoded)).toEqual(['testing', 'awaiting_approval', 'deploying', 'deployed']);
    const scheduled = scheduledEvents.map((attributes) => attributes.activityType?.name);
    expect(scheduled.filter((name) => name === 'recordDeployment')).toHaveLength(targets.length);
    // The tests yield on the task queue: lower priority (4) than every other activity of the run (the default, 3).
    const priorities = new Set(scheduledEvents.map((attributes) => `${attributes.activityType?.name}:${attributes.priority?.priorityKey ?? 'default'}`));
    expect([...priorities].filter((entry) => entry.startsWith('testTargetStages:'))).toEqual(['testTargetStages:4']);
    expect([...priorities].filter((entry) => !entry.startsWith('testTargetStages:') && !entry.endsWith(':default'))).toEqual([]);
    // One activity per target and round: the four tree stages, then the workflow-run stage.
    expect(scheduled.filter((name) => name === 'testTargetStages')).toHaveLength(2 * targets.length);
    const actions = new Set((await listAuditEvents(h.db.pool, { subjectType: 'patch', subjectId: spec.id, limit: 1000 })).map((e) => e.action));
    expect([...actions].sort()).toEqual(['deployment.deployed', 'health.sampled', 'patch.approved', 'patch.awaiting_approval', 'patch.deployed', 'patch.deploying', 'patch.testing']);
  });

  test('a target that switched the workflow-run stage off is tested in one round, its skipped stage reported with the tree stages', async () => {
    const [runs, off] = await h.createTargets(2);
    const spec = await h.spec([runs!, { ...off!, workflowRun: false }]);
    const handle = await h.start(spec);
    const state = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        return handle.query(patchStatusQuery);
      })(),
    );
    const scheduled = ((await handle.fetchHistory()).events ?? []).flatMap((event) => event.activityTaskScheduledEventAttributes ?? []);
    // Two activities for the target that runs the stage (tree stages, then workflow-run), one for the other.
    expect(scheduled.filter((attributes) => attributes.activityType?.name === 'testTargetStages')).toHaveLength(3);
    const offVerdicts = state.tests.filter((test) => test.targetId === off!.id);
    expect(offVerdicts.map((test) => test.stage)).toEqual([...TEST_STAGES]);
    expect(offVerdicts[4]).toMatchObject({ passed: true, summary: 'skipped: the target has workflowRun: false' });
    expect(state.tests.filter((test) => test.targetId === runs!.id).map((test) => test.stage)).toEqual([...TEST_STAGES]);
    await handle.terminate('test over');
  });

  test('a run started with search attributes that do not match its patch corrects them before it goes on', async () => {
    const [target] = await h.createTargets(1);
    const spec = await h.spec([target!]);
    // Another starter's values: a status the patch is not in, a target it does not have.
    const forged = [
      { key: patchTypeKey, value: spec.type },
      { key: patchTargetsKey, value: ['org/not-a-target'] },
      { key: patchStatusKey, value: 'deployed' },
    ];
    const handle = await h.client.workflow.start(patchLifecycleWorkflow, { taskQueue: h.taskQueue, workflowId: `patch-${spec.id}`, args: [spec], typedSearchAttributes: forged });
    await h.runWorker(waitForStatus(handle, 'awaiting_approval'));
    const upserts = ((await handle.fetchHistory()).events ?? []).map((event) => event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
    const decoded = (payload: { data?: Uint8Array | null } | undefined): unknown => (payload ? JSON.parse(Buffer.from(payload.data ?? []).toString('utf8')) : undefined);
    const corrected = upserts.find((fields) => fields['PatchTargets'] !== undefined);
    expect(decoded(corrected?.['PatchTargets'])).toEqual([target!.name]);
    expect(decoded(corrected?.['PatchStatus'])).toBe('pending');
    // The type it started with was right: not written again.
    expect(corrected?.['PatchType']).toBeUndefined();
    await handle.terminate('test over');
  });

  test('a diff that does not apply on one target ends in test_failed at the isolated stage; nothing is deployed', async () => {
    const [good] = await h.createTargets(1);
    const [drifted] = await h.createTargets(1, { files: { '.github/workflows/ci.yml': CI_WORKFLOW.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-24.04') } });
    const spec = await h.spec([good!, drifted!]);
    const result = await h.runWorker(h.start(spec).then((handle) => handle.result()));
    expect(result.status).toBe('test_failed');
    expect(result.statusReason).toMatch(/^isolated stage failed on org\/repo-\d+/);
    expect(result.deployments).toEqual([]);
    expect(h.commitsWithTrailer(good!, 'Patch-Id', spec.id)).toEqual([]);
  });

  test('a patched file that violates the workflow schema fails the isolated stage', async () => {
    const [target] = await h.createTargets(1);
    const diff = insertIntoBuildJob('timeout-minutes: soon');
    const result = await h.runWorker(h.spec([target!], { diff }).then((spec) => h.start(spec)).then((handle) => handle.result()));
    expect(result.status).toBe('test_failed');
    expect(result.statusReason).toMatch(/^isolated stage failed/);
  });

  test('a patch that removes a step fails the safety stage', async () => {
    const [target] = await h.createTargets(1);
    const diff = ciWorkflowDiff('@@ -8,3 +8,2 @@ jobs:', ['     steps:', '       - uses: actions/checkout@v4', '-      - run: make']);
    const result = await h.runWorker(h.spec([target!], { diff }).then((spec) => h.start(spec)).then((handle) => handle.result()));
    expect(result.status).toBe('test_failed');
    expect(result.statusReason).toMatch(/^safety stage failed/);
    // The tree stages run at once: every verdict of the round is kept.
    expect(result.tests.map((test) => `${test.stage}:${test.passed}`)).toEqual(['isolated:true', 'integration:true', 'safety:false', 'regression:true']);
  });

  test('a failing round names its first failing stage in stage order, whichever target it failed on', async () => {
    const diff = ciWorkflowDiff('@@ -8,3 +8,2 @@ jobs:', ['     steps:', '       - uses: actions/checkout@v4', '-      - run: make']);
    // The first target fails the safety stage only; on the second the diff does not apply (every stage fails).
    const [unsafe] = await h.createTargets(1);
    const [drifted] = await h.createTargets(1, { files: { '.github/workflows/ci.yml': CI_WORKFLOW.replace('- run: make', '- run: make all') } });
    const spec = await h.spec([unsafe!, drifted!], { diff });
    const result = await h.runWorker(h.start(spec).then((handle) => handle.result()));
    expect(result.status).toBe('test_failed');
    expect(result.statusReason).toMatch(new RegExp(`^isolated stage failed on ${drifted!.name}: the diff does not apply cleanly`));
    expect(result.tests.map((test) => `${test.stage}:${test.targetId === unsafe!.id ? 'unsafe' : 'drifted'}:${test.passed}`)).toEqual([
      'isolated:unsafe:true', 'isolated:drifted:false',
      'integration:unsafe:true', 'integration:drifted:false',
      'safety:unsafe:false', 'safety:drifted:false',
      'regression:unsafe:true', 'regression:drifted:false',
    ]);
  });

  test('a patch that makes a passing job fail fails the workflow-run stage, naming the job and the step', async () => {
    const [target] = await h.createTargets(1);
    const diff = ciWorkflowDiff('@@ -9,2 +9,4 @@ jobs:', ['       - uses: actions/checkout@v4', '       - run: make', '+      - name: look for a file', '+        run: test -f NOT-THERE']);
    const spec = await h.spec([target!], { diff });
    const result = await h.runWorker(h.start(spec).then((handle) => handle.result()));
    expect(result.status).toBe('test_failed');
    expect(result.statusReason).toMatch(/^workflow-run stage failed on org\/repo-[\w-]+: 1 job\(s\) that passed without the patch fail with it: job ci\.yml build fails with the patch at step "look for a file"/);
    expect(result.tests.map((test) => `${test.stage}:${test.passed}`)).toEqual(['isolated:true', 'integration:true', 'safety:true', 'regression:true', 'workflow-run:false']);
    const stored = await getPatch(h.db.pool, spec.id);
    expect(stored?.tests.find((test) => test.stage === 'workflow-run')).toMatchObject({
      passed: false,
      details: { status: 'ran', jobs: [{ jobId: 'build', verdict: 'broken', brokenSteps: [{ stepName: 'look for a file' }] }] },
    });
    expect(h.commitsWithTrailer(target!, 'Patch-Id', spec.id)).toEqual([]);
  });

  test('a Guardian rejects: rejected, nothing deployed', async () => {
    const [target] = await h.createTargets(1);
    const spec = await h.spec([target!]);
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        await handle.executeUpdate(rejectUpdate, { args: [{ guardian: 'gina', reason: 'not now' }] });
        return handle.result();
      })(),
    );
    h.recordHistory(handle, 'rejected');
    expect(result.status).toBe('rejected');
    expect(result.statusReason).toBe('rejected by gina: not now');
    expect(h.commitsWithTrailer(target!, 'Patch-Id', spec.id)).toEqual([]);
  });

  test('quorum of 2: self-approval and a second approval by the same guardian are refused', async () => {
    const [target] = await h.createTargets(1);
    const spec = await h.spec([target!], { approval: { quorum: 2, timeoutSeconds: 600 } });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        await expect(handle.executeUpdate(approveUpdate, { args: [{ guardian: 'alice', comment: null }] })).rejects.toThrow(WorkflowUpdateFailedError);
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
        await expect(handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] })).rejects.toThrow(WorkflowUpdateFailedError);
        expect((await handle.query(patchStatusQuery)).status).toBe('awaiting_approval');
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gus', comment: 'second' }] });
        return handle.result();
      })(),
    );
    h.recordHistory(handle, 'quorum-of-two');
    expect(result.status).toBe('deployed');
    expect(result.approvals.map((a) => a.guardian)).toEqual(['gina', 'gus']);
    expect(h.commitsWithTrailer(target!, 'Approved-by', 'gina')).toHaveLength(1);
  });

  test('health fails in wave 2: every deployed target is reverted in reverse order, wave 3 is never touched', async () => {
    const targets = await h.createTargets(5);
    const spec = await h.spec(targets);
    const handle = await h.start(spec);
    h.health.set(targets[2]!.name, 503);
    const result = await h.runWorker(
      (async () => {
        await approveWhenReady(handle);
        return handle.result();
      })(),
    );
    h.recordHistory(handle, 'health-failure-rollback');
    expect(result.status).toBe('rolled_back');
    expect(result.statusReason).toMatch(/^health failed in wave 2: .*org\/repo-/);
    const deployedIds = result.deployments.map((d) => d.targetId);
    expect(deployedIds).toEqual(targets.slice(0, 3).map((t) => t.id));
    expect(result.deployments.every((d) => d.status === 'reverted')).toBe(true);
    for (const target of targets.slice(0, 3)) expect(h.commitsWithTrailer(target, 'Reverts-Patch-Id', spec.id)).toHaveLength(1);
    for (const target of targets.slice(3)) expect(h.commitsWithTrailer(target, 'Patch-Id', spec.id)).toEqual([]);
    const reverts = (await listAuditEvents(h.db.pool, { subjectType: 'patch', subjectId: spec.id, limit: 1000 })).filter((e) => e.action === 'deployment.reverted');
    // Waves newest first; the targets of one wave are reverted in parallel, in no particular order.
    const waveOf = new Map(result.deployments.map((d) => [d.targetId, d.wave]));
    const revertedWaves = reverts.map((e) => waveOf.get(String(e.details.targetId)));
    expect(revertedWaves).toEqual([...revertedWaves].sort((a, b) => (b ?? 0) - (a ?? 0)));
    expect(new Set(reverts.map((e) => e.details.targetId))).toEqual(new Set(deployedIds));
    h.health.delete(targets[2]!.name);
  });

  test('abort while paused rolls back what was deployed', async () => {
    const targets = await h.createTargets(3);
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 33 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
    });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await approveWhenReady(handle);
        await waitForStatus(handle, 'deploying');
        await handle.executeUpdate(pauseUpdate, { args: [{ by: 'gina', reason: 'checking dashboards' }] });
        await expect(handle.executeUpdate(pauseUpdate, { args: [{ by: 'gina', reason: null }] })).rejects.toThrow(WorkflowUpdateFailedError);
        // Paused: the rollout holds after wave 1 while health checks keep running.
        await new Promise((resolve) => setTimeout(resolve, 4000));
        const paused = await handle.query(patchStatusQuery);
        expect(paused).toMatchObject({ status: 'paused', currentWave: 1 });
        await handle.signal(abortSignal, { by: 'gina', reason: 'dashboards look wrong' });
        return handle.result();
      })(),
    );
    h.recordHistory(handle, 'abort-while-paused');
    expect(result.status).toBe('rolled_back');
    expect(result.statusReason).toBe('aborted by gina: dashboards look wrong');
    expect(result.deployments.map((d) => d.status)).toEqual(['reverted']);
    expect(h.commitsWithTrailer(targets[1]!, 'Patch-Id', spec.id)).toEqual([]);
  });

  test('pause then resume continues the rollout', async () => {
    const targets = await h.createTargets(2);
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 50 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
    });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await approveWhenReady(handle);
        await waitForStatus(handle, 'deploying');
        await handle.executeUpdate(pauseUpdate, { args: [{ by: 'gina', reason: null }] });
        await new Promise((resolve) => setTimeout(resolve, 3000));
        expect((await handle.query(patchStatusQuery)).currentWave).toBe(1);
        await handle.executeUpdate(resumeUpdate, { args: [{ by: 'gina' }] });
        return handle.result();
      })(),
    );
    expect(result.status).toBe('deployed');
    for (const target of targets) expect(h.commitsWithTrailer(target, 'Patch-Id', spec.id)).toHaveLength(1);
  });

  test('a branch that moved between testing and deployment: the patch is re-applied on the new tip', async () => {
    const [target] = await h.createTargets(1);
    const spec = await h.spec([target!]);
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        const clone = mkdtempSync(path.join(h.scratch, 'someone-'));
        const git = (args: string[]): string =>
          execFileSync('git', args, { cwd: clone, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' } }).trim();
        git(['clone', '-q', target!.repoUrl, '.']);
        writeFileSync(path.join(clone, 'README.md'), 'moved\n');
        git(['add', 'README.md']);
        git(['commit', '-q', '-m', 'someone else']);
        git(['push', '-q', 'origin', 'main']);
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
        return handle.result();
      })(),
    );
    expect(result.status).toBe('deployed');
    const [commit] = h.commitsWithTrailer(target!, 'Patch-Id', spec.id);
    const parent = execFileSync('git', ['log', '-1', '--format=%s', `${commit}^`], { cwd: target!.repoUrl, encoding: 'utf8' }).trim();
    expect(parent).toBe('someone else');
  });

  // The Java time-skipping server cannot register our search attributes (no OperatorService), so the deadline is
  // exercised on the dev server with a short real timeout.
  test('no quorum before the approval deadline: expired, nothing deployed', async () => {
    const [target] = await h.createTargets(1);
    const spec = await h.spec([target!], { approval: { quorum: 1, timeoutSeconds: 2 } });
    const result = await h.runWorker(h.start(spec).then((handle) => handle.result()));
    expect(result.status).toBe('expired');
    expect(result.statusReason).toBe('no quorum of 1 within 2 s');
    expect((await getPatch(h.db.pool, spec.id))?.status).toBe('expired');
    expect(h.commitsWithTrailer(target!, 'Patch-Id', spec.id)).toEqual([]);
  });
});
