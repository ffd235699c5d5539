/**
 * The reconciler's activities: find patches whose lifecycle run has ended (terminated, timed out, failed) or
 * vanished while the read model still shows them in progress, and write the status a run could not write.
 */
import { getClient } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { PatchState, PatchStatus } from '../domain/types';
import { openPatches, type PatchTarget, patchTargets, writeReconciledStatus } from '../store/patch-reconciliation';
import type { ActivityDeps } from './index';

/** The audit actor of statuses the reconciler writes. */
export const RECONCILER_ACTOR = 'system:reconciler';
/** Patches examined per reconcile run, least recently changed first; the next run takes the next ones. */
const PATCHES_PER_RUN = 200;
/** A patch whose run does not exist is only judged after this long: its start may still be on the way. */
const MISSING_RUN_GRACE_SECONDS = 120;

export type StrandedPatch =
  | { kind: 'completed'; patchId: string; status: PatchStatus; reason: string }
  | { kind: 'ended'; patchId: string; why: string };

export interface MarkPatchInput {
  patchId: string;
  to: PatchStatus;
  reason: string;
}

export function createReconcileActivities({ pool }: ActivityDeps) {
  return {
    /**
     * Open patches whose run is closed: completed ones (the run's own final status never reached the read model)
     * and ended ones (terminated, timed out, failed, cancelled, or gone), which need compensation.
     */
    async findStrandedPatches(): Promise<StrandedPatch[]> {
      const client = getClient();
      const stranded: StrandedPatch[] = [];
      for (const patch of await openPatches(pool, PATCHES_PER_RUN)) {
        const handle = client.workflow.getHandle(patch.workflowId);
        try {
          const { status } = await handle.describe();
          if (status.name === 'RUNNING' || status.name === 'CONTINUED_AS_NEW') continue;
          if (status.name === 'COMPLETED') {
            const final = (await handle.result()) as PatchState;
            stranded.push({ kind: 'completed', patchId: patch.id, status: final.status, reason: final.statusReason ?? final.status });
          } else {
            stranded.push({ kind: 'ended', patchId: patch.id, why: `its lifecycle run was ${status.name.toLowerCase().replace('_', ' ')} while the patch was ${patch.status}` });
          }
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          if (patch.idleSeconds >= MISSING_RUN_GRACE_SECONDS) stranded.push({ kind: 'ended', patchId: patch.id, why: `its lifecycle run no longer exists (the patch was ${patch.status})` });
        }
      }
      return stranded;
    },

    /** Writes a status the lifecycle run could not write; returns false when the patch already had it. */
    async markPatch(input: MarkPatchInput): Promise<boolean> {
      return writeReconciledStatus(pool, { ...input, actor: RECONCILER_ACTOR });
    },

    /** The patch's targets, with the wave each one's deployment was recorded in. */
    async listPatchTargets(patchId: string): Promise<PatchTarget[]> {
      return patchTargets(pool, patchId);
    },
  };
}

export type ReconcileActivities = ReturnType<typeof createReconcileActivities>;
