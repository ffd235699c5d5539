/**
 * One cycle of an agent policy, started by the policy's Temporal Schedule (`agent-<policy id>`) at every tick, or
 * on demand (POST /api/v1/policies/:id/run, `temporal schedule trigger`): select the policy's targets, analyze
 * them (a batched fleet scan as a child workflow, so a large fleet does not grow the cycle's history), plan the proposals (a pure planner behind an activity), create each patch
 * idempotently and start its lifecycle as a child workflow that outlives the cycle (ParentClosePolicy ABANDON),
 * then record the counts. A cycle that finds nothing new creates nothing. Deterministic: workflow code only.
 */
import {
  executeChild,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  startChild,
  uuid4,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { AgentActivities } from '../activities/agent';
import type { AnalysisActivities } from '../activities/analysis';
import type { ScanAnalyses } from '../activities/agent';
import type { AgentCycleCounts } from '../store/agent';
import { ANALYZING } from './analysis';
import { fleetScanWorkflow } from './fleet-scan';
import { patchLifecycleWorkflow } from './patch-lifecycle';
import { patchStartSearchAttributes } from './search-attributes';

const { analyzeTarget } = proxyActivities<AnalysisActivities>(ANALYZING);
const bookkeeping = proxyActivities<AgentActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['PolicyNotFoundError'] },
});
/** Planning and creation run the fixer over checkouts: heartbeating, bounded, retried a few times. */
const fixing = proxyActivities<AgentActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds', nonRetryableErrorTypes: ['PolicyNotFoundError'] },
});

const scanBookkeeping = proxyActivities<AnalysisActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, maximumInterval: '30 seconds' },
});

/** Targets analyzed at the same time. */
const SCAN_CONCURRENCY = 4;
/** The marker of cycles that scan through a fleet scan child workflow rather than one activity per target here. */
export const BATCHED_SCAN_PATCH = 'batched-fleet-scan';

export interface AgentCycleInput {
  policyId: string;
}

export interface AgentCycleResult extends AgentCycleCounts {
  policyId: string;
  /** Null when the policy no longer exists (its schedule fired once more before it was deleted). */
  policyName: string | null;
  /** Patches this cycle created and started. */
  patchIds: string[];
  /** Why proposals were not created (the fixer found nothing to fix after all, a target became unusable). */
  refusals: string[];
}

function emptyCounts(): AgentCycleCounts {
  return { targetsSelected: 0, targetsScanned: 0, targetsFailed: 0, findingsEligible: 0, findingsProposed: 0, patchesProposed: 0, skipped: { covered: 0, rejected: 0, overLimit: 0, refused: 0 } };
}

/**
 * Analyzes the targets in a fleet scan (recorded in the read model like one from the API, listed under its id) run
 * as a child workflow; the planner reads the scan's analyses that succeeded from the read model.
 */
async function scanInBatches(targetIds: string[], requestedBy: string, policyName: string, counts: AgentCycleCounts): Promise<ScanAnalyses> {
  const scanId = uuid4();
  const workflowId = `fleet-scan-${scanId}`;
  await scanBookkeeping.recordFleetScan({ scanId, workflowId, targetIds, requestedBy });
  const progress = await executeChild(fleetScanWorkflow, {
    workflowId,
    args: [{ scanId, requestedBy, total: targetIds.length, concurrency: SCAN_CONCURRENCY }],
    staticSummary: `fleet scan of ${targetIds.length} target(s) for policy ${policyName}`,
  });
  counts.targetsScanned = progress.succeeded;
  counts.targetsFailed = progress.failed;
  return { fleetScanId: scanId };
}

/** Cycles started before scans were batched: every target, SCAN_CONCURRENCY at a time; the ids of the analyses that succeeded. */
async function scan(targetIds: readonly string[], requestedBy: string, counts: AgentCycleCounts): Promise<string[]> {
  const succeeded: string[] = [];
  let next = 0;
  const runOne = async (): Promise<void> => {
    while (next < targetIds.length) {
      const targetId = targetIds[next++] ?? '';
      const analysisId = uuid4();
      try {
        await analyzeTarget({ analysisId, targetId, requestedBy });
        succeeded.push(analysisId);
        counts.targetsScanned += 1;
      } catch {
        // The activity stored the failure on the analysis row; the cycle goes on with the other targets.
        counts.targetsFailed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, targetIds.length) }, runOne));
  return succeeded;
}

export async function agentCycleWorkflow(input: AgentCycleInput): Promise<AgentCycleResult> {
  const { workflowId: cycleId, runId } = workflowInfo();
  const counts = emptyCounts();
  const result = (policyName: string | null, patchIds: string[], refusals: string[]): AgentCycleResult => ({ policyId: input.policyId, policyName, ...counts, patchIds, refusals });
  const started = await bookkeeping.startAgentCycle({ policyId: input.policyId, cycleId, runId });
  if (started === null) return result(null, [], []);
  counts.targetsSelected = started.targets.length;
  // The Web UI shows what the cycle is doing under the run's User Metadata.
  setCurrentDetails(`scanning ${started.targets.length} target(s) of policy ${started.policyName}`);
  const selectedTargetIds = started.targets.map((target) => target.id);
  const analyses: ScanAnalyses =
    selectedTargetIds.length > 0 && patched(BATCHED_SCAN_PATCH)
      ? await scanInBatches(selectedTargetIds, started.author, started.policyName, counts)
      : { analysisIds: await scan(selectedTargetIds, started.author, counts) };

  setCurrentDetails(`planning from ${counts.targetsScanned} analysis(es)`);
  const plan = await fixing.planAgentCycle({ policyId: input.policyId, ...analyses });
  counts.findingsEligible = plan.counts.findingsEligible;
  counts.findingsProposed = plan.counts.findingsProposed;
  counts.skipped = { covered: plan.counts.findingsCovered, rejected: plan.counts.findingsRejectedBefore, overLimit: plan.counts.findingsOverLimit, refused: 0 };

  const patchIds: string[] = [];
  const refusals: string[] = [];
  for (const [index, proposal] of plan.proposals.entries()) {
    setCurrentDetails(`creating patch ${index + 1} of ${plan.proposals.length} (${proposal.ruleId ?? proposal.targets[0]?.targetName ?? ''})`);
    const proposed = proposal.targets.reduce((total, target) => total + target.fingerprints.length, 0);
    const created = await fixing.createAgentPatch({ policyId: input.policyId, cycleId, proposal, selectedTargetIds });
    if (created.kind === 'refused') {
      refusals.push(created.reason);
      counts.skipped.refused += proposed;
      counts.findingsProposed -= proposed;
      continue;
    }
    if (created.kind === 'existing') {
      // An overlapping cycle proposed the same patch first: it starts the lifecycle.
      counts.skipped.covered += proposed;
      counts.findingsProposed -= proposed;
      continue;
    }
    try {
      await startChild(patchLifecycleWorkflow, {
        workflowId: `patch-${created.patchId}`,
        args: [created.input],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: created.input.title,
        typedSearchAttributes: patchStartSearchAttributes({ type: created.input.type, targets: created.input.targets }),
      });
    } catch (error) {
      // Started by an earlier run of this cycle (a reset): the lifecycle runs already.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    patchIds.push(created.patchId);
    counts.patchesProposed += 1;
  }
  setCurrentDetails(`done: ${patchIds.length} patch(es) proposed`);
  await bookkeeping.finishAgentCycle({ cycleId, counts, patchIds });
  return result(started.policyName, patchIds, refusals);
}
