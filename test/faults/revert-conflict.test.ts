/**
 * A revert that can never succeed: after the patch was deployed, someone else changed the very lines it added on
 * one target, so `git revert` conflicts there. When health fails, compensation must still revert every other
 * target, and the patch must end `failed` with a reason naming the target that could not be reverted.
 */
import { CI_WORKFLOW, createLifecycleHarness, type LifecycleHarness } from '../support/lifecycle';
import { getPatch } from '../../src/store/patches';
import { approveUpdate, patchStatusQuery } from '../../src/workflows/patch-lifecycle';
import { fileOnBranch, pushCommit } from './support/git-branch';
import { until } from './support/waiting';

jest.setTimeout(180_000);

const CI_FILE = '.github/workflows/ci.yml';
/** The line TIMEOUT_DIFF adds, changed by someone else after the deploy: the revert conflicts with it. */
const CONFLICTING_WORKFLOW = CI_WORKFLOW.replace('    steps:\n', '    timeout-minutes: 30\n    steps:\n');

describe('a revert that fails for good', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await createLifecycleHarness();
  }, 120_000);
  afterAll(async () => {
    await h.close();
  });

  test('ends the patch failed, naming the target, and still reverts every other target', async () => {
    const targets = await h.createTargets(4);
    const [conflicted, unhealthy] = [targets[0]!, targets[1]!];
    // Wave 1 holds three targets and is watched until the test makes one unhealthy; the fourth is never deployed.
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 75 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 600, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
    });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await until('awaiting approval', async () => ((await handle.query(patchStatusQuery)).status === 'awaiting_approval' ? true : undefined));
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
        await until('wave 1 deployed', async () => ((await handle.query(patchStatusQuery)).deployments.filter((deployment) => deployment.status === 'deployed').length === 3 ? true : undefined));
        pushCommit(conflicted, { [CI_FILE]: CONFLICTING_WORKFLOW }, 'Raise the job timeout to 30 minutes', h.scratch);
        h.health.set(unhealthy.name, 503);
        return handle.result();
      })(),
    );
    h.health.delete(unhealthy.name);

    expect(result.status).toBe('failed');
    expect(result.statusReason).toMatch(
      new RegExp(`^health failed in wave 1: .+; rollback incomplete, revert failed on ${conflicted.name}: reverting [0-9a-f]{40} conflicts in ${CI_FILE.replaceAll('.', '\\.')}`),
    );
    // Only the conflicted target is named as failed.
    expect(result.statusReason?.split('revert failed on ')[1]).not.toMatch(new RegExp(`${unhealthy.name}|${targets[2]!.name}`));
    expect(result.deployments.map(({ targetName, status }) => ({ targetName, status }))).toEqual([
      { targetName: conflicted.name, status: 'revert_failed' },
      { targetName: unhealthy.name, status: 'reverted' },
      { targetName: targets[2]!.name, status: 'reverted' },
    ]);

    // Git: the other wave-1 targets are back to the original file; the conflicted one keeps the newer change.
    for (const target of [unhealthy, targets[2]!]) {
      expect(h.commitsWithTrailer(target, 'Reverts-Patch-Id', spec.id)).toHaveLength(1);
      expect(fileOnBranch(target, CI_FILE)).toBe(CI_WORKFLOW);
    }
    expect(h.commitsWithTrailer(conflicted, 'Reverts-Patch-Id', spec.id)).toEqual([]);
    expect(fileOnBranch(conflicted, CI_FILE)).toBe(CONFLICTING_WORKFLOW);
    expect(h.commitsWithTrailer(targets[3]!, 'Patch-Id', spec.id)).toEqual([]);

    // The read model agrees with the workflow.
    const patch = await until('the read model', async () => {
      const stored = await getPatch(h.db.pool, spec.id);
      return stored?.status === 'failed' ? stored : undefined;
    });
    expect(patch.statusReason).toBe(result.statusReason);
    expect(patch.deployments.map(({ targetId, status }) => ({ targetId, status })).sort((a, b) => a.targetId.localeCompare(b.targetId))).toEqual(
      result.deployments.map(({ targetId, status }) => ({ targetId, status })).sort((a, b) => a.targetId.localeCompare(b.targetId)),
    );
    expect(patch.deployments.find((deployment) => deployment.targetId === conflicted.id)?.error).toMatch(/conflict/i);
  });
});
