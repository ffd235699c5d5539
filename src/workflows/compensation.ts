/**
 * Compensation: reverts every target a deployment was attempted on, waves newest first and the targets of one
 * wave in parallel (bounded by the rollout's parallelism), inside a non-cancellable scope. Each revert is
 * idempotent (already reverted, or never pushed, is a no-op that leaves a marker later deploys respect), and one
 * failing target does not stop the others: the patch ends `failed`, naming them.
 */
import { CancellationScope } from '@temporalio/workflow';
import type { TargetDeployment } from '../domain/types';
import { failureMessage, REVERTING, reverting } from './lifecycle-activities';
import type { LifecycleRun } from './lifecycle-run';

/** Reverts one deployment; returns why it failed, or undefined. */
async function revertOne(run: LifecycleRun, deployment: TargetDeployment, reason: string): Promise<string | undefined> {
  const target = run.target(deployment.targetId);
  if (!target) return undefined;
  run.updateDeployment(deployment, { status: 'reverting' });
  try {
    const result = await reverting.revertTarget.executeWithOptions(
      { ...REVERTING, summary: `revert ${target.name} (wave ${deployment.wave})` },
      [{ patchId: run.input.id, target, wave: deployment.wave, seq: run.nextDeploymentSeq(), title: run.input.title, reason }],
    );
    run.updateDeployment(deployment, { status: result.status === 'reverted' ? 'reverted' : 'skipped', revertCommit: result.revertCommit, error: null });
    return undefined;
  } catch (error) {
    const message = failureMessage(error);
    run.updateDeployment(deployment, { status: 'revert_failed', error: message });
    return `${target.name}: ${message}`;
  }
}

export async function compensate(run: LifecycleRun, reason: string): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    run.transition('rolling_back', reason);
    const waves = [...new Set(run.state.deployments.map((deployment) => deployment.wave))].sort((a, b) => b - a);
    const failures: string[] = [];
    for (const wave of waves) {
      // A declined target was left as a person chose (their pull request closed, their branch): nothing to undo.
      const inWave = run.state.deployments.filter((deployment) => deployment.wave === wave && !['reverted', 'skipped', 'declined'].includes(deployment.status));
      run.showStep(`rolling back wave ${wave} (${inWave.length} target(s))`);
      for (let start = 0; start < inWave.length; start += run.input.rollout.parallelism) {
        const outcomes = await Promise.all(inWave.slice(start, start + run.input.rollout.parallelism).map((deployment) => revertOne(run, deployment, reason)));
        failures.push(...outcomes.filter((outcome): outcome is string => outcome !== undefined));
      }
    }
    if (failures.length > 0) run.transition('failed', `${reason}; rollback incomplete, revert failed on ${failures.join('; ')}`);
    else run.transition('rolled_back', reason);
  });
}
