/**
 * Compensation: reverts every target a deployment was attempted on, waves newest first, inside a non-cancellable
 * scope. Within a wave, up to the rollout's `revertParallelism` reverts run at once and the next starts as soon as
 * one ends. Each revert is idempotent (already reverted, or never pushed, is a no-op that leaves a marker later
 * deploys respect), and one failing target does not stop the others: the patch ends `failed`, naming them.
 */
import { CancellationScope } from '@temporalio/workflow';
import { DEFAULT_REVERT_PARALLELISM, type Target, type TargetDeployment } from '../domain/types';
import { inBoundedPool } from './bounded-pool';
import { failureMessage, REVERTING, reverting } from './lifecycle-activities';
import type { LifecycleRun } from './lifecycle-run';

/**
 * The marker of runs that revert a wave in a bounded pool, recording its deployments with one bookkeeping write
 * before and one after; runs without it revert in batches of `parallelism`, recording each target twice.
 */
export const REVERT_POOL_PATCH = 'revert-pool';

/** Deployments that were left as a person chose (declined) or are already undone have nothing to revert. */
function toRevert(run: LifecycleRun, wave: number): TargetDeployment[] {
  return run.state.deployments.filter((deployment) => deployment.wave === wave && !['reverted', 'skipped', 'declined'].includes(deployment.status));
}

/**
 * Runs the revert activity for one deployment and puts its outcome into the state (recorded by the caller);
 * returns why it failed, or undefined.
 */
async function revertDeployment(run: LifecycleRun, deployment: TargetDeployment, target: Target, reason: string): Promise<string | undefined> {
  try {
    const result = await reverting.revertTarget.executeWithOptions(
      { ...REVERTING, summary: `revert ${target.name} (wave ${deployment.wave})` },
      [{ patchId: run.input.id, target, wave: deployment.wave, seq: run.nextDeploymentSeq(), title: run.input.title, reason }],
    );
    Object.assign(deployment, { status: result.status === 'reverted' ? 'reverted' : 'skipped', revertCommit: result.revertCommit, error: null });
    return undefined;
  } catch (error) {
    const message = failureMessage(error);
    Object.assign(deployment, { status: 'revert_failed', error: message });
    return `${target.name}: ${message}`;
  }
}

/**
 * Reverts one wave in a pool of `revertParallelism`. The revert activity stores each target's row itself as it
 * ends; the two writes here are the reliable record of the wave (reverting, then the outcomes).
 */
async function revertWave(run: LifecycleRun, wave: number, reason: string): Promise<string[]> {
  const inWave = toRevert(run, wave).flatMap((deployment) => {
    const target = run.target(deployment.targetId);
    return target ? [{ deployment, target }] : [];
  });
  const deployments = inWave.map(({ deployment }) => deployment);
  run.showStep(`rolling back wave ${wave} (${inWave.length} target(s))`);
  for (const deployment of deployments) deployment.status = 'reverting';
  run.recordDeployments(deployments);
  const bound = run.input.rollout.revertParallelism ?? DEFAULT_REVERT_PARALLELISM;
  const outcomes = await inBoundedPool(inWave, bound, ({ deployment, target }) => revertDeployment(run, deployment, target, reason));
  run.recordDeployments(deployments);
  return outcomes.filter((outcome): outcome is string => outcome !== undefined);
}

/** Reverts one deployment, recording it before and after; returns why it failed, or undefined. */
async function revertOne(run: LifecycleRun, deployment: TargetDeployment, reason: string): Promise<string | undefined> {
  const target = run.target(deployment.targetId);
  if (!target) return undefined;
  run.updateDeployment(deployment, { status: 'reverting' });
  const failure = await revertDeployment(run, deployment, target, reason);
  run.updateDeployment(deployment, {});
  return failure;
}

/** The command sequence of runs without REVERT_POOL_PATCH: batches of `parallelism`, each waiting for its slowest. */
async function revertWaveInBatches(run: LifecycleRun, wave: number, reason: string): Promise<string[]> {
  const inWave = toRevert(run, wave);
  run.showStep(`rolling back wave ${wave} (${inWave.length} target(s))`);
  const failures: string[] = [];
  for (let start = 0; start < inWave.length; start += run.input.rollout.parallelism) {
    const outcomes = await Promise.all(inWave.slice(start, start + run.input.rollout.parallelism).map((deployment) => revertOne(run, deployment, reason)));
    failures.push(...outcomes.filter((outcome): outcome is string => outcome !== undefined));
  }
  return failures;
}

export async function compensate(run: LifecycleRun, reason: string): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    const pooled = run.patched(REVERT_POOL_PATCH);
    run.transition('rolling_back', reason);
    const waves = [...new Set(run.state.deployments.map((deployment) => deployment.wave))].sort((a, b) => b - a);
    const failures: string[] = [];
    for (const wave of waves) failures.push(...(await (pooled ? revertWave(run, wave, reason) : revertWaveInBatches(run, wave, reason))));
    if (failures.length > 0) run.transition('failed', `${reason}; rollback incomplete, revert failed on ${failures.join('; ')}`);
    else run.transition('rolled_back', reason);
  });
}
