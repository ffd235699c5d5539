/**
 * Analyses through Temporal: one short workflow per target analysis (retried, visible in the Web UI) and a fleet
 * scan that analyzes many targets with bounded concurrency and reports progress through a query.
 */
import { defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { AnalysisActivities, AnalysisSummary, AnalyzeTargetInput } from '../activities/analysis';

/** One target's analysis: a checkout and the analyzer, retried a few times. */
export const ANALYZING = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '2s', nonRetryableErrorTypes: ['TargetNotFoundError', 'InvalidInputError'] },
};
const { analyzeTarget } = proxyActivities<AnalysisActivities>(ANALYZING);
const { completeFleetScan } = proxyActivities<AnalysisActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10 },
});

export async function analyzeTargetWorkflow(input: AnalyzeTargetInput): Promise<AnalysisSummary> {
  return analyzeTarget(input);
}

export interface FleetScanInput {
  scanId: string;
  targetIds: string[];
  requestedBy: string;
  /** Targets analyzed at the same time. */
  concurrency: number;
  /** One analysis id per target, made by the API so the read model can list them before they run. */
  analysisIds: string[];
}

export interface FleetScanProgress {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
}

export const fleetScanProgressQuery = defineQuery<FleetScanProgress>('progress');

export async function fleetScanWorkflow(input: FleetScanInput): Promise<FleetScanProgress> {
  const progress: FleetScanProgress = { total: input.targetIds.length, succeeded: 0, failed: 0, running: 0 };
  setHandler(fleetScanProgressQuery, () => ({ ...progress }), { description: 'How many targets are done.' });
  let next = 0;
  const runOne = async (): Promise<void> => {
    while (next < input.targetIds.length) {
      const index = next++;
      progress.running += 1;
      try {
        await analyzeTarget({
          analysisId: input.analysisIds[index] ?? '',
          targetId: input.targetIds[index] ?? '',
          requestedBy: input.requestedBy,
          fleetScanId: input.scanId,
        });
        progress.succeeded += 1;
      } catch {
        // The activity stored the failure on the analysis row; the scan goes on with the other targets.
        progress.failed += 1;
      } finally {
        progress.running -= 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, input.targetIds.length)) }, runOne));
  await completeFleetScan({ scanId: input.scanId, failed: progress.failed });
  return progress;
}
