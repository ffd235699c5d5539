/**
 * The reconciler, run by a Temporal Schedule every minute: a patch whose lifecycle run closed without its read
 * model reaching a terminal status gets that status (from the run's result), or, when the run was terminated,
 * timed out, failed or vanished, a compensation run that reverts every target still carrying the patch's commit
 * (found by its Patch-Id trailer) and says why. Nothing here depends on the ended run's state: git and the read
 * model are the ledger.
 */
import {
  ParentClosePolicy,
  proxyActivities,
  sleep,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { PatchActivities } from '../activities/patches';
import type { ReconcileActivities } from '../activities/reconcile';
import type { PatchTarget } from '../store/patch-reconciliation';
import { failureMessage, REVERTING, reverting } from './lifecycle-activities';

const reconciling = proxyActivities<ReconcileActivities & Pick<PatchActivities, 'recordDeployment'>>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, maximumInterval: '30 seconds' },
});

/** Deployment rows written by compensation are the last word about a target: above any step a lifecycle run numbers. */
const COMPENSATION_SEQ = 2_000_000_000;
/** Reverts run this many at a time. */
const PARALLEL_REVERTS = 4;
/**
 * A deploy attempt of the ended run may still be pushing (its worker learns of the end at its next heartbeat);
 * a second pass after this long reverts what landed meanwhile.
 */
const SECOND_PASS_DELAY = '30 seconds';

export interface CompensatePatchInput {
  patchId: string;
  /** Why the patch is compensated, for people: what happened to its run. */
  why: string;
}

/** One scheduled pass over the open patches. Returns how many it closed and how many it sent to compensation. */
export async function reconcileWorkflow(): Promise<{ closed: number; compensating: number }> {
  let closed = 0;
  let compensating = 0;
  for (const patch of await reconciling.findStrandedPatches()) {
    if (patch.kind === 'completed') {
      if (await reconciling.markPatch({ patchId: patch.patchId, to: patch.status, reason: patch.reason })) closed += 1;
      continue;
    }
    try {
      await startChild(compensatePatchWorkflow, {
        workflowId: `compensate-${patch.patchId}`,
        args: [{ patchId: patch.patchId, why: patch.why }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `compensate patch ${patch.patchId}`,
      });
      compensating += 1;
    } catch (error) {
      // Already compensating (or compensated): one compensation per patch.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }
  return { closed, compensating };
}

/** Reverts the patch on every target that still carries it; returns a line per target that could not be reverted. */
async function revertEverywhere(patchId: string, targets: readonly PatchTarget[], pass: number): Promise<{ reverted: string[]; failed: string[] }> {
  const reverted: string[] = [];
  const failed: string[] = [];
  for (let start = 0; start < targets.length; start += PARALLEL_REVERTS) {
    await Promise.all(
      targets.slice(start, start + PARALLEL_REVERTS).map(async ({ target, wave }) => {
        try {
          const result = await reverting.revertTarget.executeWithOptions(
            { ...REVERTING, summary: `revert ${target.name} (compensation, pass ${pass})` },
            [{ patchId, target, wave, seq: COMPENSATION_SEQ }],
          );
          if (result.status === 'reverted') reverted.push(target.name);
        } catch (error) {
          failed.push(`${target.name}: ${failureMessage(error)}`);
          await reconciling.recordDeployment({ patchId, targetId: target.id, targetName: target.name, wave, status: 'revert_failed', error: failureMessage(error), seq: COMPENSATION_SEQ });
        }
      }),
    );
  }
  return { reverted, failed };
}

/** Undoes a patch whose lifecycle run ended without finishing, and records the outcome. */
export async function compensatePatchWorkflow(input: CompensatePatchInput): Promise<{ reverted: string[]; failed: string[] }> {
  const { patchId, why } = input;
  await reconciling.markPatch({ patchId, to: 'rolling_back', reason: `${why}; the reconciler is reverting it` });
  const targets = await reconciling.listPatchTargets(patchId);
  const first = await revertEverywhere(patchId, targets, 1);
  await sleep(SECOND_PASS_DELAY);
  const second = await revertEverywhere(patchId, targets, 2);
  const reverted = [...new Set([...first.reverted, ...second.reverted])];
  const failed = second.failed;
  const done = reverted.length > 0 ? `reverted on ${reverted.join(', ')}` : 'nothing was deployed';
  if (failed.length > 0) await reconciling.markPatch({ patchId, to: 'failed', reason: `${why}; ${done}; the revert failed on ${failed.join('; ')}` });
  else await reconciling.markPatch({ patchId, to: 'rolled_back', reason: `${why}; compensated by the reconciler: ${done}` });
  return { reverted, failed };
}
