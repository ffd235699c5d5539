/**
 * The patch report: what a patch changed, why, how it was tested, who approved it, how it rolled out and what it
 * did to the targets' scores, with the Temporal workflow behind it. One JSON model, read from the read model;
 * the API serves it as JSON and as Markdown (patch-report-markdown.ts), and a console can render the same model.
 */
import type { Pool } from 'pg';
import type { ApprovalRecord, ApprovalSpec, DeploymentStatus, PatchStatus, PatchType, PullRequestLink, ResolvedFinding, TestStage } from '../domain/types';
import type { HealthSample } from '../health/types';
import { healthSampleCounts, type HealthSampleCounts } from '../store/health-samples';
import { listTargetDiffs } from '../store/patch-target-diffs';
import { getPatch, type PatchDetail, type PatchTransition } from '../store/patches';
import { type ScorePoint, scoresAround, type ScoreWindow } from '../store/scores';
import { type DiffStats, diffStats } from './diff-stats';
import { type Excerpt, headExcerpt, tailExcerpt } from './excerpt';
import { countedApprovals } from '../workflows/approval-quorum';
import { type WorkflowRunJob, workflowRunJobs } from './workflow-run-jobs';

/** Characters of a stage's log a report keeps (its end) and of each diff (its start). */
export const REPORT_LOG_CHARS = 2_000;
export const REPORT_DIFF_CHARS = 20_000;

export interface ReportTarget {
  id: string;
  name: string;
}

export interface ReportDiff {
  /** The target this diff goes to; null when one diff goes to every target (a hand-written patch). */
  target: ReportTarget | null;
  /** The commit a generated diff was made at; null for a hand-written one. */
  baseCommit: string | null;
  /** Set when the target's branch moved and the diff was made again: the commit it was first made at. */
  regeneratedFrom: string | null;
  diffSha256: string;
  /** Null when the diff cannot be read as a unified diff. */
  stats: DiffStats | null;
  diff: Excerpt;
}

export interface ReportFinding extends ResolvedFinding {
  target: ReportTarget;
}

export interface ReportTestRun {
  target: ReportTarget;
  stage: TestStage;
  passed: boolean;
  summary: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  log: Excerpt;
  /** The workflow-run stage's compared jobs; null for the other stages and when it was skipped. */
  jobs: WorkflowRunJob[] | null;
}

export interface ReportApproval {
  /** Approvals required from Guardians other than the author. */
  quorum: number;
  timeoutSeconds: number;
  /** Why the quorum is what it is, when the patch's approval spec says. */
  reasons: string[];
  /** Whether only approvals of Guardians from groups not yet represented count. */
  distinctGroups: boolean;
  /** Approvals that count towards the quorum. */
  approvals: number;
  quorumMet: boolean;
  /** Oldest first. */
  decisions: ApprovalRecord[];
}

export interface ReportDeployment {
  target: ReportTarget;
  status: DeploymentStatus;
  deployedAt: string | null;
  deployedCommit: string | null;
  previousCommit: string | null;
  revertedAt: string | null;
  revertCommit: string | null;
  error: string | null;
  /** Targets delivered by pull request: the patch's pull request, and the revert's. */
  pullRequest: PullRequestLink | null;
  revertPullRequest: PullRequestLink | null;
  /** What the pull request's checks said before the merge (e.g. checks already failing before the patch). */
  note: string | null;
  health: HealthSampleCounts & { /** Newest last. */ recent: HealthSample[] };
}

export interface ReportWave {
  /** 1-based. */
  wave: number;
  /** The wave's cumulative percentage of the targets, from the rollout spec. */
  percent: number | null;
  deployments: ReportDeployment[];
}

/** `not-deployed`: the patch never reached the target; `not-analysed-since`: no analysis while it was deployed. */
export type ScoreAfterState = 'analysed' | 'not-analysed-since' | 'not-deployed';

export interface ReportScore {
  target: ReportTarget;
  /** The target's last analysis before the patch was deployed there (or, when it was not, before it was created). */
  before: ScorePoint | null;
  /** The target's first analysis after the deployment (and before its revert). */
  after: ScorePoint | null;
  afterState: ScoreAfterState;
  change: number | null;
}

export interface PatchReport {
  patch: {
    id: string;
    title: string;
    type: PatchType;
    status: PatchStatus;
    statusReason: string | null;
    author: string;
    description: string | null;
    diffSha256: string;
    createdAt: string;
    updatedAt: string;
  };
  workflow: { id: string; namespace: string; url: string };
  changes: {
    /** Files changed (distinct paths) and lines added and removed over every diff; null when a diff cannot be read. */
    total: Omit<DiffStats, 'files'> | null;
    diffs: ReportDiff[];
  };
  /** Why: the findings the patch resolves (empty for a hand-written patch; its description says why). */
  findings: ReportFinding[];
  /** By target, then stage in test order. */
  tests: ReportTestRun[];
  approval: ReportApproval;
  rollout: { waves: ReportWave[]; transitions: PatchTransition[] };
  scores: ReportScore[];
  generatedAt: string;
}

export interface TemporalUi {
  /** Base URL of the Web UI, without a trailing slash. */
  url: string;
  namespace: string;
}

/** The workflow's page in the Temporal Web UI. */
export function workflowUiUrl(ui: TemporalUi, workflowId: string): string {
  return `${ui.url}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function approvalOf(patch: PatchDetail): ReportApproval {
  const spec: ApprovalSpec = patch.approval;
  const distinctGroups = spec.distinctGroups === true;
  // Counted as the lifecycle counts them: with distinct groups, only approvers adding a group not yet represented.
  const approvals = countedApprovals(patch.approvals, distinctGroups);
  return {
    quorum: spec.quorum,
    timeoutSeconds: spec.timeoutSeconds,
    // Patches created before quorums were computed have no reasons.
    reasons: spec.reasons ?? [],
    distinctGroups,
    approvals,
    quorumMet: approvals >= spec.quorum,
    decisions: patch.approvals,
  };
}

function totalOf(diffs: readonly ReportDiff[]): PatchReport['changes']['total'] {
  const stats = diffs.map((entry) => entry.stats);
  if (stats.some((entry) => entry === null)) return null;
  const readable = stats.filter((entry): entry is DiffStats => entry !== null);
  return {
    filesChanged: new Set(readable.flatMap((entry) => entry.files.map((file) => file.path))).size,
    linesAdded: readable.reduce((sum, entry) => sum + entry.linesAdded, 0),
    linesRemoved: readable.reduce((sum, entry) => sum + entry.linesRemoved, 0),
  };
}

function scoreWindow(patch: PatchDetail, targetId: string): ScoreWindow {
  const deployment = patch.deployments.find((entry) => entry.targetId === targetId);
  if (!deployment?.deployedAt) return { targetId, before: new Date(patch.createdAt) };
  const deployedAt = new Date(deployment.deployedAt);
  return { targetId, before: deployedAt, after: { from: deployedAt, until: deployment.revertedAt ? new Date(deployment.revertedAt) : null } };
}

/** The report of patch `id`, or undefined when there is no such patch. */
export async function buildPatchReport(pool: Pool, id: string, ui: TemporalUi): Promise<PatchReport | undefined> {
  const patch = await getPatch(pool, id);
  if (!patch) return undefined;
  const windows = patch.targets.map((target) => scoreWindow(patch, target.id));
  const [targetDiffs, sampleCounts, scores] = await Promise.all([listTargetDiffs(pool, id), healthSampleCounts(pool, id), scoresAround(pool, windows)]);
  // A deleted target is left out of patch.targets; its rows still name it by id.
  const targetOf = (targetId: string): ReportTarget => patch.targets.find((target) => target.id === targetId) ?? { id: targetId, name: targetId };

  const diffs: ReportDiff[] =
    targetDiffs.length === 0
      ? [{ target: null, baseCommit: null, regeneratedFrom: null, diffSha256: patch.diffSha256, stats: diffStats(patch.diff), diff: headExcerpt(patch.diff, REPORT_DIFF_CHARS) }]
      : targetDiffs.map((entry) => ({
          target: { id: entry.targetId, name: entry.targetName },
          baseCommit: entry.baseCommit,
          regeneratedFrom: entry.regeneratedFrom,
          diffSha256: entry.diffSha256,
          stats: diffStats(entry.diff),
          diff: headExcerpt(entry.diff, REPORT_DIFF_CHARS),
        }));

  const noSamples: HealthSampleCounts = { samples: 0, failed: 0, errors: 0, firstFailureAt: null };
  const waveNumbers = [...new Set(patch.deployments.map((deployment) => deployment.wave))].sort((a, b) => a - b);
  const waves: ReportWave[] = waveNumbers.map((wave) => ({
    wave,
    percent: patch.rollout.waves[wave - 1]?.percent ?? null,
    deployments: patch.deployments
      .filter((deployment) => deployment.wave === wave)
      .map((deployment) => ({
        target: targetOf(deployment.targetId),
        status: deployment.status,
        deployedAt: deployment.deployedAt,
        deployedCommit: deployment.deployedCommit,
        previousCommit: deployment.previousCommit,
        revertedAt: deployment.revertedAt,
        revertCommit: deployment.revertCommit,
        error: deployment.error,
        pullRequest: deployment.pullRequest ?? null,
        revertPullRequest: deployment.revertPullRequest ?? null,
        note: deployment.note ?? null,
        health: { ...(sampleCounts.get(deployment.targetId) ?? noSamples), recent: deployment.lastSamples },
      })),
  }));

  return {
    patch: {
      id: patch.id,
      title: patch.title,
      type: patch.type,
      status: patch.status,
      statusReason: patch.statusReason,
      author: patch.author,
      description: patch.description,
      diffSha256: patch.diffSha256,
      createdAt: patch.createdAt,
      updatedAt: patch.updatedAt,
    },
    workflow: { id: patch.workflowId, namespace: ui.namespace, url: workflowUiUrl(ui, patch.workflowId) },
    changes: { total: totalOf(diffs), diffs },
    findings: targetDiffs.flatMap((entry) => entry.findings.map((finding) => ({ ...finding, target: { id: entry.targetId, name: entry.targetName } }))),
    tests: patch.tests.map((run) => ({
      target: targetOf(run.targetId),
      stage: run.stage,
      passed: run.passed,
      summary: run.summary,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      durationMs: Date.parse(run.finishedAt) - Date.parse(run.startedAt),
      log: tailExcerpt(run.log, REPORT_LOG_CHARS),
      jobs: run.stage === 'workflow-run' ? workflowRunJobs(run.details) : null,
    })),
    approval: approvalOf(patch),
    rollout: { waves, transitions: patch.transitions },
    scores: patch.targets.map((target) => {
      const { before, after } = scores.get(target.id) ?? { before: null, after: null };
      const deployed = patch.deployments.some((deployment) => deployment.targetId === target.id && deployment.deployedAt !== null);
      return {
        target,
        before,
        after,
        afterState: after ? 'analysed' : deployed ? 'not-analysed-since' : 'not-deployed',
        change: before && after ? after.score - before.score : null,
      };
    }),
    generatedAt: new Date().toISOString(),
  };
}
