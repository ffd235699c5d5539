/**
 * Analyses through Temporal: one short workflow per target analysis (retried, visible in the Web UI). Fleet scans
 * are in fleet-scan.ts.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { AnalysisActivities, AnalysisSummary, AnalyzeTargetInput } from '../activities/analysis';

/** One target's analysis: a checkout and the analyzer, retried a few times. */
export const ANALYZING = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '2s', nonRetryableErrorTypes: ['TargetNotFoundError', 'InvalidInputError'] },
};
const { analyzeTarget } = proxyActivities<AnalysisActivities>(ANALYZING);

export async function analyzeTargetWorkflow(input: AnalyzeTargetInput): Promise<AnalysisSummary> {
  return analyzeTarget(input);
}
