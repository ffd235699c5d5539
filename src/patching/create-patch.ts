/**
 * Creating a patch, in one place for the API (POST /api/v1/patches) and the agent: plan it (a caller's diff, or
 * diffs generated from analysis findings), turn the plan into the lifecycle's spec (refusing unmonitored targets
 * unless allowed), store it with its per-target diffs, and build the lifecycle workflow's input. Refusals are
 * PatchRefused (the caller's request cannot make a patch); a repository that cannot be read is PatchSourceUnavailable.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import {
  type ApprovalMinimums,
  type PatchSpec,
  type PatchType,
  type QuietWindow,
  type RolloutSpec,
  type Target,
} from '../domain/types';
import { GitError, isValidBranchName, validateDiffPaths } from '../git';
import { repoUrlPolicyOf } from '../git/git-cli';
import { type RepoUrlPolicy, repoUrlProblem } from '../git/repo-url';
import { type NewTargetDiff, saveTargetDiffs } from '../store/patch-target-diffs';
import { createPatch, type PatchSummary } from '../store/patches';
import { getTargets } from '../store/targets';
import type { PatchLifecycleInput } from '../workflows/lifecycle-run';
import {
  combinedDiff,
  type FromFindingsRequest,
  type GenerationEnvironment,
  generatedDescription,
  generatedTitle,
  generateTargetDiffs,
  loadFindingSources,
  PatchGenerationRefused,
  patchTypeFor,
  type SkippedTarget,
} from './from-findings';
import { readTargetChanges } from './patched-files';
import { approvalSpec, type RequestedApproval, type TargetChanges } from './risk-quorum';

/** The request cannot make a patch; `errors` name refused fields, `details` become problem+json members. */
export class PatchRefused extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly errors?: Array<{ path: string; message: string }>,
  ) {
    super(message);
    this.name = 'PatchRefused';
  }
}

/** A target's repository could not be read to generate the patch: not the caller's mistake, worth a retry. */
export class PatchSourceUnavailable extends Error {
  constructor(cause: GitError) {
    super(`A target's repository could not be read to generate the patch: ${cause.message}`, { cause });
    this.name = 'PatchSourceUnavailable';
  }
}

/** What a patch is made of before it is stored: its diff (or per-target diffs) and the targets they go to. */
export interface PatchPlan {
  title: string;
  type: PatchType;
  description: string | null;
  diff: string;
  targets: Target[];
  /** Empty for a patch with one diff for every target. */
  targetDiffs: NewTargetDiff[];
  skippedTargets: SkippedTarget[];
  /** What the patch does on each target: what its quorum is computed from. */
  changes: TargetChanges[];
}

export interface DiffPatchRequest {
  title: string;
  type: PatchType;
  description?: string | undefined;
  targets: string[];
  diff: string;
}

export interface FindingsPatchRequest {
  fromFindings: FromFindingsRequest;
  title?: string | undefined;
  type?: PatchType | undefined;
  description?: string | undefined;
}

/** How the patch is rolled out and approved; agent patches add quiet windows and the policy's approval minimums. */
export interface PatchSettings {
  author: string;
  rollout: RolloutSpec;
  /** What was asked; the patch's changes and the minimums may require more (risk-quorum.ts). */
  approval: RequestedApproval;
  quietWindows?: QuietWindow[];
  approvalMinimums?: ApprovalMinimums;
}

/** Targets registered under other rules (before ALLOW_LOCAL_REPOS was turned off) are checked again. */
function refuseUnusableTargets(targets: readonly Target[], field: string, repoUrls: RepoUrlPolicy): void {
  const refused = targets.flatMap((target) => {
    const problem = repoUrlProblem(target.repoUrl, repoUrls) ?? (isValidBranchName(target.branch) ? undefined : 'has a branch name git does not accept');
    return problem ? [{ path: field, message: `Target ${target.name}: the repository URL ${problem}.` }] : [];
  });
  if (refused.length > 0) throw new PatchRefused(refused[0]?.message ?? 'A target cannot be used.', {}, refused);
}

/** A patch whose diff the caller wrote, for the targets the caller named (whose changed files are read for the quorum). */
export async function planFromDiff(pool: Pool, request: DiffPatchRequest, env: GenerationEnvironment): Promise<PatchPlan> {
  const targets = await getTargets(pool, request.targets);
  const missing = request.targets.filter((id) => !targets.some((target) => target.id === id));
  if (missing.length > 0) throw new PatchRefused(`No target ${missing.join(', ')}.`, { missingTargets: missing });
  refuseUnusableTargets(targets, 'targets', repoUrlPolicyOf(env.git));
  const diffCheck = validateDiffPaths(request.diff);
  if (!diffCheck.ok) throw new PatchRefused(`The diff is refused: ${diffCheck.problems.map((p) => p.reason).join('; ')}.`, { diffProblems: diffCheck.problems });
  const changes = await readTargetChanges(targets, request.diff, env);
  return { title: request.title, type: request.type, description: request.description ?? null, diff: request.diff, targets, targetDiffs: [], skippedTargets: [], changes };
}

/** A patch generated from analyses' findings: one diff per target, at the commit its analysis saw. */
export async function planFromFindings(pool: Pool, request: FindingsPatchRequest, env: GenerationEnvironment): Promise<PatchPlan> {
  const { analysisIds, ...selection } = request.fromFindings;
  let generated;
  try {
    const sources = await loadFindingSources(pool, request.fromFindings);
    refuseUnusableTargets(sources.map((source) => source.target), 'fromFindings.analysisIds', repoUrlPolicyOf(env.git));
    generated = await generateTargetDiffs(sources, selection, env);
  } catch (error) {
    if (error instanceof PatchGenerationRefused) throw new PatchRefused(error.message, error.details);
    if (error instanceof GitError) throw new PatchSourceUnavailable(error);
    throw error;
  }
  const { diffs, skipped } = generated;
  if (diffs.length === 0) {
    const reasons = skipped.map((entry) => `${entry.target}: ${entry.reason}`).join('; ');
    throw new PatchRefused(`The patch would be empty: no target of analyses ${analysisIds.join(', ')} has a finding the fixer can fix (${reasons}).`, { skippedTargets: skipped });
  }
  const refusedDiffs = diffs.flatMap((entry) => {
    const check = validateDiffPaths(entry.diff);
    return check.ok ? [] : [`${entry.target.name}: ${check.problems.map((p) => p.reason).join('; ')}`];
  });
  if (refusedDiffs.length > 0) throw new PatchRefused(`A generated diff is refused: ${refusedDiffs.join('; ')}.`);
  const findings = diffs.flatMap((entry) => entry.findings);
  return {
    title: request.title ?? generatedTitle(diffs),
    type: request.type ?? patchTypeFor(findings),
    description: request.description ?? generatedDescription(diffs, skipped),
    diff: combinedDiff(diffs),
    targets: diffs.map((entry) => entry.target),
    targetDiffs: diffs.map(({ target: _target, files: _files, ...entry }) => entry),
    skippedTargets: skipped,
    changes: diffs.map((entry) => ({ target: entry.target.name, files: entry.files, fixes: entry.findings })),
  };
}

/** The lifecycle's spec of a planned patch; refused when a target is unmonitored and that is not allowed. */
export function patchSpecFor(plan: PatchPlan, settings: PatchSettings): PatchSpec {
  const unmonitored = plan.targets.filter((target) => target.healthChecks.length === 0 && !target.verifyCommand);
  if (unmonitored.length > 0 && !settings.rollout.allowUnmonitored) {
    throw new PatchRefused(
      `Target(s) ${unmonitored.map((t) => t.name).join(', ')} have neither health checks nor a verifyCommand; set rollout.allowUnmonitored to deploy anyway.`,
      { unmonitoredTargets: unmonitored.map((t) => t.id) },
    );
  }
  return {
    id: randomUUID(),
    title: plan.title,
    type: plan.type,
    description: plan.description,
    author: settings.author,
    diff: plan.diff,
    targets: plan.targets,
    rollout: settings.rollout,
    approval: approvalSpec(settings.approval, plan.changes, settings.approvalMinimums),
    ...(settings.quietWindows && settings.quietWindows.length > 0 ? { quietWindows: settings.quietWindows } : {}),
  };
}

/** Stores the patch (status pending) and its per-target diffs, inside the caller's transaction. */
export async function storePatch(db: PoolClient, spec: PatchSpec, plan: PatchPlan): Promise<PatchSummary> {
  const summary = await createPatch(db, { ...spec, workflowId: patchWorkflowId(spec.id) });
  await saveTargetDiffs(db, spec.id, plan.targetDiffs);
  return summary;
}

export function patchWorkflowId(patchId: string): string {
  return `patch-${patchId}`;
}

/** The `patch.created` audit event's details; `extra` says where the patch came from. */
export function patchCreatedDetails(spec: PatchSpec, diffSha256: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { title: spec.title, type: spec.type, targets: spec.targets.map((target) => target.name), diffSha256, quorum: spec.approval.quorum, ...extra };
}

/** The lifecycle's input: the spec without the diff, which is stored with the patch; the run carries its hash. */
export function lifecycleInput(spec: PatchSpec, diffSha256: string): PatchLifecycleInput {
  const { diff: _diff, ...specWithoutDiff } = spec;
  return { ...specWithoutDiff, diffSha256 };
}
