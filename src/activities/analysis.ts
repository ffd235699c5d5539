/**
 * Analysis activities: check out the target's branch, analyze its CI workflow files with the engine and store
 * the result in the read model. Keyed by the analysis id, so a retry overwrites its own partial work.
 */
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { allRules } from '../analysis/rules';
import { repositoryViewAt } from '../analysis/checkout-view';
import { analyzeRepository } from '../analysis/engine';
import { allowsLocalRepos, gitWorkRoot } from '../config';
import type { Analysis } from '../domain/types';
import { checkout, disposeCheckout } from '../git';
import { completeAnalysis, completeFleetScan, createFleetScan, failAnalysis, fleetScanTargetSlice, getAnalysis, startAnalysis } from '../store/analyses';
import { getTarget } from '../store/targets';
import { ForgeDirectory } from '../forges';
import type { ActivityDeps } from './index';

export interface AnalyzeTargetInput {
  analysisId: string;
  targetId: string;
  requestedBy: string;
  fleetScanId?: string;
}

export type AnalysisSummary = Pick<Analysis, 'id' | 'targetId' | 'status' | 'score' | 'summary' | 'commitSha'>;

export function createAnalysisActivities({ pool, config }: ActivityDeps) {
  const workRoot = gitWorkRoot(config);
  const forges = ForgeDirectory.load(config.forges.credentials);
  return {
    async analyzeTarget(input: AnalyzeTargetInput): Promise<AnalysisSummary> {
      const target = await getTarget(pool, input.targetId);
      if (!target) throw ApplicationFailure.nonRetryable(`target ${input.targetId} does not exist`, 'TargetNotFoundError');
      await startAnalysis(pool, { id: input.analysisId, targetId: target.id, requestedBy: input.requestedBy, fleetScanId: input.fleetScanId });
      heartbeat('checking out');
      try {
        const access = await forges.gitAccess(target);
        const clone = await checkout(target.repoUrl, target.branch, workRoot, { repoUrlPolicy: { allowLocal: allowsLocalRepos(config) }, config: access });
        try {
          const { view } = await repositoryViewAt(clone.dir, undefined);
          heartbeat('analyzing');
          const result = analyzeRepository(view, { rules: allRules });
          await completeAnalysis(pool, input.analysisId, { commitSha: clone.headSha, score: result.score, findings: result.findings, files: result.files.length });
        } finally {
          await disposeCheckout(clone.dir);
        }
      } catch (error) {
        await failAnalysis(pool, input.analysisId, error instanceof Error ? error.message : String(error));
        throw error;
      }
      const stored = await getAnalysis(pool, input.analysisId);
      if (!stored) throw new Error(`analysis ${input.analysisId} vanished from the read model`);
      return { id: stored.id, targetId: stored.targetId, status: stored.status, score: stored.score, summary: stored.summary, commitSha: stored.commitSha };
    },

    /** Records a scan in the read model (idempotent: a retry keeps the first row). */
    async recordFleetScan(input: { scanId: string; workflowId: string; targetIds: string[]; requestedBy: string }): Promise<void> {
      await createFleetScan(pool, { id: input.scanId, workflowId: input.workflowId, targetIds: input.targetIds, requestedBy: input.requestedBy });
    },

    /** The target ids of one batch of a scan: `count` from `offset` (0-based) on. */
    async fleetScanTargets(input: { scanId: string; offset: number; count: number }): Promise<string[]> {
      const targetIds = await fleetScanTargetSlice(pool, input.scanId, input.offset, input.count);
      if (targetIds === undefined) throw ApplicationFailure.nonRetryable(`fleet scan ${input.scanId} is not in the read model`, 'FleetScanNotFoundError');
      return targetIds;
    },

    async completeFleetScan(input: { scanId: string; failed: number }): Promise<void> {
      await completeFleetScan(pool, input.scanId, input.failed);
    },
  };
}

export type AnalysisActivities = ReturnType<typeof createAnalysisActivities>;
