/**
 * A lifecycle run terminated halfway through its rollout (wave 2 of 3 being deployed) cannot compensate itself:
 * the reconciler's schedule (every 5 s here) finds the patch, reverts every target that carries its commit,
 * including a deploy that was still pushing when the run was terminated, and writes why into the read model.
 */
import { getPatch } from '../../src/store/patches';
import { ensureReconcileSchedule, reconcileScheduleId } from '../../src/temporal/schedules';
import { approveUpdate, patchStatusQuery } from '../../src/workflows/patch-lifecycle';
import { CI_WORKFLOW, createLifecycleHarness, type LifecycleHarness } from '../support/lifecycle';
import { fileOnBranch } from './support/git-branch';
import { until } from './support/waiting';

jest.setTimeout(240_000);

const RECONCILE_INTERVAL_SECONDS = 5;
/** What the brief promises operators: a terminated rollout is undone within this long. */
const REVERTED_WITHIN_MS = 120_000;
const CI_FILE = '.github/workflows/ci.yml';

describe('a terminated rollout', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await createLifecycleHarness();
    await ensureReconcileSchedule(h.client, h.config.temporal, RECONCILE_INTERVAL_SECONDS);
  }, 120_000);
  afterAll(async () => {
    await h.client.schedule.getHandle(reconcileScheduleId(h.config.temporal.taskQueue)).delete();
    await h.close();
  });

  test('is reverted by the reconciler on every target carrying the patch within 2 minutes, and the read model says why', async () => {
    const targets = await h.createTargets(6);
    // Three waves of two targets, deployed one at a time: terminating after the first deploy of wave 2 leaves the
    // second one in flight.
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 33 }, { percent: 66 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 1 },
    });
    const handle = await h.start(spec);
    const { terminatedAt, revertedAt } = await h.runWorker(
      (async () => {
        await until('awaiting approval', async () => ((await handle.query(patchStatusQuery)).status === 'awaiting_approval' ? true : undefined));
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
        await until(
          'the first deploy of wave 2',
          async () => ((await handle.query(patchStatusQuery)).deployments.some((deployment) => deployment.wave === 2 && deployment.status === 'deployed') ? true : undefined),
          { intervalMs: 50 },
        );
        await handle.terminate('an operator terminated the run halfway through the rollout');
        const terminated = Date.now();
        await until('the reconciler closing the patch', async () => ((await getPatch(h.db.pool, spec.id))?.status === 'rolled_back' ? true : undefined), {
          timeoutMs: REVERTED_WITHIN_MS,
        });
        return { terminatedAt: terminated, revertedAt: Date.now() };
      })(),
    );
    expect(revertedAt - terminatedAt).toBeLessThan(REVERTED_WITHIN_MS);

    const carrying = targets.filter((target) => h.commitsWithTrailer(target, 'Patch-Id', spec.id).length > 0);
    // Wave 1 and at least the first target of wave 2 got the patch; wave 3 never did.
    expect(carrying.map((target) => target.id)).toEqual(expect.arrayContaining(targets.slice(0, 3).map((target) => target.id)));
    expect(carrying.map((target) => target.id)).not.toEqual(expect.arrayContaining([targets[4]!.id]));
    for (const target of targets) {
      const carries = carrying.includes(target);
      expect({ target: target.name, deploys: h.commitsWithTrailer(target, 'Patch-Id', spec.id).length, reverts: h.commitsWithTrailer(target, 'Reverts-Patch-Id', spec.id).length }).toEqual({
        target: target.name,
        deploys: carries ? 1 : 0,
        reverts: carries ? 1 : 0,
      });
      expect(fileOnBranch(target, CI_FILE)).toBe(CI_WORKFLOW);
    }

    const patch = await getPatch(h.db.pool, spec.id);
    const reason = /^its lifecycle run was terminated while the patch was deploying; compensated by the reconciler: reverted on (.+)$/.exec(patch?.statusReason ?? '');
    expect(reason).not.toBeNull();
    // Reverts run in parallel: the names come in the order they finished.
    expect(reason?.[1]?.split(', ').sort()).toEqual(carrying.map((target) => target.name).sort());
    for (const target of carrying) {
      expect(patch?.deployments.find((deployment) => deployment.targetId === target.id)).toMatchObject({
        status: 'reverted',
        revertCommit: h.commitsWithTrailer(target, 'Reverts-Patch-Id', spec.id)[0],
      });
    }
  });
});
