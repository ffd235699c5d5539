/**
 * The lifecycle when its surroundings fail, on real parts (dev server, worker, PostgreSQL, git, HTTP health):
 * the read model never steers (an unrecorded approval does not count, a database outage during the health loop
 * does not roll a healthy patch back, unwritable bookkeeping does not stop compensation), checks that cannot run
 * are counted apart from failures, and a long paused rollout hands over to new runs with a bounded history.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { TEST_STAGES } from '../../src/domain/types';
import { getPatch } from '../../src/store/patches';
import { approveUpdate, patchStatusQuery, pauseUpdate, resumeUpdate } from '../../src/workflows/patch-lifecycle';
import { createLifecycleHarness, type LifecycleHarness, until, waitForStatus } from '../support/lifecycle';
import { startSharedPostgres, stopSharedPostgres } from '../support/postgres-control';

jest.setTimeout(300_000);

/** The dev server suggests continue-as-new from this many events on: small, so a test sees several hand-overs. */
const SUGGEST_CONTINUE_AS_NEW_AT = 400;

describe('lifecycle durability', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await createLifecycleHarness({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW_AT } });
  }, 120_000);
  afterAll(async () => {
    await h.close();
  });

  const revoke = (privilege: string, table: string) => h.db.ownerPool.query(`REVOKE ${privilege} ON ${table} FROM ${h.db.appRole}`);
  const grant = (privilege: string, table: string) => h.db.ownerPool.query(`GRANT ${privilege} ON ${table} TO ${h.db.appRole}`);
  const oneWave = { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 };

  test('an approval that cannot be recorded does not count, and the commit names only recorded approvals', async () => {
    const [target] = await h.createTargets(1);
    const spec = await h.spec([target!], { rollout: oneWave });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        await revoke('INSERT, UPDATE', 'approvals');
        try {
          await expect(handle.executeUpdate(approveUpdate, { args: [{ guardian: 'mallory', comment: null }] })).rejects.toThrow(WorkflowUpdateFailedError);
        } finally {
          await grant('INSERT, UPDATE', 'approvals');
        }
        expect(await handle.query(patchStatusQuery)).toMatchObject({ status: 'awaiting_approval', approvals: [] });
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
        return handle.result();
      })(),
    );
    expect(result.status).toBe('deployed');
    expect(result.approvals.map((approval) => approval.guardian)).toEqual(['gina']);
    expect(h.commitsWithTrailer(target!, 'Approved-by', 'mallory')).toEqual([]);
    expect(h.commitsWithTrailer(target!, 'Approved-by', 'gina')).toHaveLength(1);
  });

  test('PostgreSQL down for several seconds during the health loop: a healthy patch is still deployed', async () => {
    const targets = await h.createTargets(2);
    const spec = await h.spec(targets, { rollout: { ...oneWave, health: { intervalSeconds: 1, windowSeconds: 12, failureThreshold: 1 } } });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
        await until('the health loop', async () => ((await handle.query(patchStatusQuery)).currentStep.includes('health round 2') ? true : undefined));
        await stopSharedPostgres();
        await new Promise((resolve) => setTimeout(resolve, 6_000));
        await startSharedPostgres();
        return handle.result();
      })(),
    );
    expect(result.status).toBe('deployed');
    // The bookkeeping caught up once the database was back: the read model agrees.
    await until('the read model', async () => ((await getPatch(h.db.pool, spec.id))?.status === 'deployed' ? true : undefined));
  });

  test('bookkeeping that cannot be written does not stop compensation', async () => {
    const targets = await h.createTargets(2);
    const spec = await h.spec(targets, { rollout: oneWave });
    const handle = await h.start(spec);
    h.health.set(targets[1]!.name, 503);
    const result = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
        await waitForStatus(handle, 'deploying');
        // From here on no transition and no deployment row can be written.
        await revoke('INSERT', 'patch_transitions');
        await revoke('INSERT, UPDATE', 'deployments');
        try {
          // Health fails: both targets are reverted in git although the read model cannot follow.
          await until('the reverts', () => Promise.resolve(targets.every((target) => h.commitsWithTrailer(target, 'Reverts-Patch-Id', spec.id).length === 1) ? true : undefined));
          await waitForStatus(handle, 'rolled_back');
        } finally {
          await grant('INSERT', 'patch_transitions');
          await grant('INSERT, UPDATE', 'deployments');
        }
        return handle.result();
      })(),
    );
    h.health.delete(targets[1]!.name);
    expect(result.status).toBe('rolled_back');
    expect(result.deployments.map((deployment) => deployment.status)).toEqual(['reverted', 'reverted']);
    expect((await getPatch(h.db.pool, spec.id))?.status).toBe('rolled_back');
  });

  test('checks that cannot run are errors with their own limit, not failures', async () => {
    const [target] = await h.createTargets(1);
    // Stored before the address policy existed: the worker refuses to send it, so every sample is an error.
    await h.db.ownerPool.query(`UPDATE targets SET health_checks = $2 WHERE id = $1`, [target!.id, JSON.stringify([{ type: 'http', url: 'http://169.254.169.254/health', expectStatus: 200, timeoutMs: 1000 }])]);
    const refused = { ...target!, healthChecks: [{ type: 'http' as const, url: 'http://169.254.169.254/health', expectStatus: 200, timeoutMs: 1000 }] };
    const spec = await h.spec([refused], { rollout: { ...oneWave, health: { intervalSeconds: 1, windowSeconds: 30, failureThreshold: 1, errorThreshold: 3 } } });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
        return handle.result();
      })(),
    );
    expect(result.status).toBe('rolled_back');
    expect(result.statusReason).toMatch(/could not run 3x in a row: refused: 169\.254\.169\.254/);
    expect(result.deployments[0]?.lastSamples.every((sample) => sample.error === true)).toBe(true);
  });

  test('a 20-target rollout paused for many rounds hands over to new runs, each with a bounded history, and then finishes', async () => {
    const targets = await h.createTargets(20);
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 50 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 10 },
    });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await waitForStatus(handle, 'awaiting_approval');
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: 'ok' }] });
        await waitForStatus(handle, 'deploying');
        await handle.executeUpdate(pauseUpdate, { args: [{ by: 'gina', reason: 'watching' }] });
        // Paused in wave 1 (10 targets, a round a second) until the run has handed over at least three times.
        await until('three hand-overs', async () => (((await handle.query(patchStatusQuery)).handOvers ?? 0) >= 3 ? true : undefined), 180_000);
        const paused = await handle.query(patchStatusQuery);
        expect(paused).toMatchObject({ status: 'paused', paused: true, currentWave: 1 });
        expect(paused.approvals.map((approval) => approval.guardian)).toEqual(['gina']);
        expect(paused.deployments.filter((deployment) => deployment.status === 'deployed')).toHaveLength(10);
        await handle.executeUpdate(resumeUpdate, { args: [{ by: 'gina' }] });
        return handle.result();
      })(),
    );
    expect(result.status).toBe('deployed');
    expect(result.handOvers).toBeGreaterThanOrEqual(3);
    for (const target of targets) expect(h.commitsWithTrailer(target, 'Patch-Id', spec.id)).toHaveLength(1);
    const runs = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(run);
    expect(runs.length).toBe((result.handOvers ?? 0) + 1);
    // Each run stops soon after the server's suggestion. A run looks at its history once per health round, so after
    // the suggestion it may finish that round and run one more, then settle the last writes: two rounds at most, of
    // ~13 events per watched target (its check and its health record, each 3 activity events and a workflow task of
    // its own). The first run can hand over only once it watches wave 1, so it also holds every test activity.
    const roundEvents = targets.length * 13;
    runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    const [first, ...later] = runs;
    expect(first?.historyLength).toBeLessThan(SUGGEST_CONTINUE_AS_NEW_AT + 2 * roundEvents + targets.length * TEST_STAGES.length * 3);
    for (const run of later) expect(run.historyLength).toBeLessThan(SUGGEST_CONTINUE_AS_NEW_AT + 2 * roundEvents);
  });
});
