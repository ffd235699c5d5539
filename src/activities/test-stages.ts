/**
 * The test-stage activities: each runs one stage of a patch on the tip of a target branch and stores its result and
 * log (best-effort). The four tree stages of a target, which run at the same time, share one preparation: the tip
 * fetched into the branch's cached repository (where its deploy lands from later), the patched tree made there and
 * both sides read once; a checkout only for a verify command. The workflow-run stage clones its own (it runs the
 * target's jobs in it).
 */
import path from 'node:path';
import { ApplicationFailure, cancellationSignal } from '@temporalio/activity';
import type { Pool } from 'pg';
import { resolveActBinary } from '../ci-run';
import { allowsLocalRepos } from '../config';
import type { DiffSource, ResolvedFinding, StageResult, StageVerdict, Target, TestStage } from '../domain/types';
import { ForgeDirectory } from '../forges';
import { atCachedBranchTip, checkout, disposeCheckout, type GitOptions } from '../git';
import { fixCommit, nothingToFixReason, resolvedFindings } from '../patching/from-findings';
import { type PreparedTree, prepareTree, runStageOnTree, type StageContext, type StageReport } from '../patching/stages';
import { runWorkflowRunStage, skipped, SWITCHED_OFF } from '../patching/workflow-run-stage';
import { loadDiff } from '../store/patch-artifacts';
import { getTargetDiff, saveRegeneratedDiff, type TargetDiff } from '../store/patch-target-diffs';
import { saveTestRun } from '../store/patches';
import { ConcurrentShare } from '../util/concurrent-share';
import { gitOperation, heartbeating } from './activity-work';
import type { ActivityDeps } from './index';
import { bestEffort } from './patch-bookkeeping';

/** The first version's test input, with the diff itself. */
export interface RunTestStageInput {
  patchId: string;
  stage: TestStage;
  target: Target;
  diff: string;
}

export type TestTargetInput = { patchId: string; stage: TestStage; target: Target } & DiffSource;

/**
 * What a test stage runs on a target's fresh checkout: the diff and, for a patch generated from findings, the
 * findings it claims to resolve and what happened to it before the stage (regeneration); or why it cannot run.
 */
type StageSubject = { diff: string; claims?: readonly ResolvedFinding[]; details?: Record<string, unknown> } | { refused: string; details: Record<string, unknown> };

/** What a stage is run for. */
interface StageInput {
  patchId: string;
  stage: TestStage;
  target: Target;
}

/** The tested tip, in a git directory (a cached bare repository or a checkout) whose objects can be read. */
interface TestedTip {
  dir: string;
  headSha: string;
}

/** The diff a stage tests at the tip (the patch's, or the target's own made again there), or why none. */
type SubjectOf = (tip: TestedTip, signal: AbortSignal, progress: (step: string) => void) => Promise<StageSubject>;

/** What a target's tree stages run on: the tip, its subject and the patched tree read once. */
interface PreparedStages {
  headSha: string;
  subject: StageSubject;
  tree?: PreparedTree;
  /** The checkout a verify command runs in, if the target has one; removed after use. */
  checkoutDir?: string;
}

/** The diff of an input: given, or read from the read model by its hash. */
export async function diffOf(pool: Pool, source: DiffSource): Promise<string> {
  if ('diff' in source) return source.diff;
  const diff = await loadDiff(pool, source.diffSha256);
  if (diff === undefined) throw ApplicationFailure.nonRetryable(`no patch with a diff of SHA-256 ${source.diffSha256} is stored`, 'DiffNotFoundError');
  return diff;
}

export function createTestStageActivities({ pool, config }: ActivityDeps) {
  const preparedStages = new ConcurrentShare<PreparedStages>((prepared) => (prepared.checkoutDir === undefined ? Promise.resolve() : disposeCheckout(prepared.checkoutDir)));
  const workRoot = path.join(config.dataDir, 'work');
  const repoUrlPolicy = { allowLocal: allowsLocalRepos(config) };
  const forges = ForgeDirectory.load(config.forges.credentials);

  /**
   * A target's own diff at the tip. When the branch moved since the diff was made, the fixer makes it
   * again at the tip with the same selection and the new diff replaces the stored one (deploys use it); when
   * nothing of it applies there any more, the stage fails saying so.
   */
  async function ownDiffAt(patchId: string, own: TargetDiff, tip: TestedTip, signal: AbortSignal, progress: (step: string) => void): Promise<StageSubject> {
    if (tip.headSha === own.baseCommit) return { diff: own.diff, claims: own.findings };
    progress(`the branch moved since the patch was made: fixing ${tip.headSha.slice(0, 12)} again`);
    const moved = { from: own.baseCommit, to: tip.headSha };
    const { outcome } = await fixCommit(tip.dir, tip.headSha, own.selection, { git: { signal }, actions: config.actions });
    if (outcome.diff === '') {
      const reason = nothingToFixReason(outcome, own.selection);
      return {
        refused: `${own.targetName}'s branch moved from ${moved.from.slice(0, 12)} to ${moved.to.slice(0, 12)} since the patch was made, and nothing of the patch applies there any more: ${reason}`,
        details: { regenerated: { ...moved, findings: 0 } },
      };
    }
    const findings = resolvedFindings(outcome);
    await saveRegeneratedDiff(pool, { patchId, targetId: own.targetId, ...moved, diff: outcome.diff, findings });
    return { diff: outcome.diff, claims: findings, details: { regenerated: { ...moved, findings: findings.length } } };
  }

  /** The workflow-run stage on the unpatched checkout `dir`: the target's CI jobs run with act without and with the diff. */
  async function workflowRunStage(dir: string, diff: string, target: Target, signal: AbortSignal, progress: (step: string) => void): Promise<StageReport> {
    progress('running the workflow-run stage');
    // Never built here: a build takes minutes of the activity's time; .ci/run and scripts/install-act.js build it.
    const act = await resolveActBinary({ install: false });
    const { actionMirrorDir, timeoutMs } = config.ciRun;
    const outcome = await runWorkflowRunStage({ dir, diff, target, sandbox: config.sandbox, act, actionMirrorDir, timeoutMs, signal, progress });
    return { stage: 'workflow-run', targetId: target.id, ...outcome };
  }

  async function gitOptions(target: Target, signal: AbortSignal): Promise<GitOptions> {
    return { signal, repoUrlPolicy, config: await forges.gitAccess(target) };
  }

  /**
   * What a target's tree stages run on (they run at the same time and share it): no checkout unless the target
   * has a verify command.
   */
  async function prepareStages(input: StageInput, subjectOf: SubjectOf, signal: AbortSignal, progress: (step: string) => void): Promise<PreparedStages> {
    const { target } = input;
    const git = await gitOptions(target, signal);
    const context = { target, sandbox: config.sandbox, signal, progress };
    if (!target.verifyCommand?.length) {
      return atCachedBranchTip(target.repoUrl, target.branch, workRoot, git, async ({ gitDir, commitSha, treeWithDiff }) => {
        const subject = await subjectOf({ dir: gitDir, headSha: commitSha }, signal, progress);
        if ('refused' in subject) return { headSha: commitSha, subject };
        return { headSha: commitSha, subject, tree: await prepareTree({ ...context, gitDir, commit: commitSha, diff: subject.diff, claims: subject.claims, makeTree: treeWithDiff }) };
      });
    }
    const clone = await checkout(target.repoUrl, target.branch, workRoot, git);
    try {
      const subject = await subjectOf(clone, signal, progress);
      if ('refused' in subject) return { headSha: clone.headSha, subject, checkoutDir: clone.dir };
      const tree = await prepareTree({ ...context, gitDir: path.join(clone.dir, '.git'), commit: clone.headSha, workTree: clone.dir, diff: subject.diff, claims: subject.claims });
      return { headSha: clone.headSha, subject, tree, checkoutDir: clone.dir };
    } catch (error) {
      await disposeCheckout(clone.dir);
      throw error;
    }
  }

  /** A stage's report on what was prepared: the refusal of its subject, or the stage run on it. */
  async function stageReport(input: StageInput, prepared: PreparedStages, run: (diff: string, claims: StageContext['claims']) => Promise<StageReport>): Promise<StageReport> {
    const { subject } = prepared;
    if ('refused' in subject) {
      return { stage: input.stage, targetId: input.target.id, passed: false, summary: subject.refused, log: subject.refused, details: { commitSha: prepared.headSha, ...subject.details } };
    }
    const report = await run(subject.diff, subject.claims);
    return { ...report, details: { ...report.details, ...subject.details } };
  }

  /** Runs one test stage at the tip of the target branch and stores its result and log (best-effort). */
  async function testAtTip(input: StageInput, subjectOf: SubjectOf): Promise<StageResult> {
    const signal = cancellationSignal();
    const startedAt = new Date();
    const { stage, target } = input;
    const report = await heartbeating(config.worker.firstHeartbeatMs, (progress) =>
      gitOperation(async (): Promise<StageReport> => {
        progress(`fetching ${target.name}`);
        if (stage === 'workflow-run') {
          if (target.workflowRun === false) return { stage, targetId: target.id, ...skipped(SWITCHED_OFF) };
          // The stage applies the diff itself, after running the jobs without it.
          const clone = await checkout(target.repoUrl, target.branch, workRoot, await gitOptions(target, signal));
          try {
            const subject = await subjectOf(clone, signal, progress);
            return await stageReport(input, { headSha: clone.headSha, subject }, (diff) => workflowRunStage(clone.dir, diff, target, signal, progress));
          } finally {
            await disposeCheckout(clone.dir);
          }
        }
        // Keyed by patch and target: within one patch a target's diff does not change.
        const key = [input.patchId, target.id, target.repoUrl, target.branch].join('\0');
        return preparedStages.use(
          key,
          (shareSignal) => prepareStages(input, subjectOf, shareSignal, progress),
          (prepared) =>
            stageReport(input, prepared, (diff, claims) => {
              if (prepared.tree === undefined) throw new Error(`no patched tree was prepared for the ${stage} stage`);
              return runStageOnTree(stage, prepared.tree, { diff, claims, target, sandbox: config.sandbox, signal, progress, workTree: prepared.checkoutDir });
            }),
          signal,
        );
      }),
    );
    await bestEffort(`the ${input.stage} test of ${input.target.name}`, () => saveTestRun(pool, { ...report, patchId: input.patchId, startedAt, finishedAt: new Date() }));
    return { stage: report.stage, targetId: report.targetId, passed: report.passed, summary: report.summary, log: report.log };
  }

  return {
    /** The first version's test stage: the diff in the input, the log in the result. */
    async runTestStage(input: RunTestStageInput): Promise<StageResult> {
      return testAtTip(input, () => Promise.resolve({ diff: input.diff }));
    },

    /**
     * Runs one test stage at the tip of the target branch; the log stays in the read model. A target with its own
     * diff (a patch generated from findings) is tested with it, made again first should its branch have moved.
     */
    async testTarget(input: TestTargetInput): Promise<StageVerdict> {
      // Read by whichever stage prepares the target (the others share what it prepared).
      const { log: _log, ...verdict } = await testAtTip(input, async (tip, signal, progress) => {
        const own = await getTargetDiff(pool, input.patchId, input.target.id);
        return own ? ownDiffAt(input.patchId, own, tip, signal, progress) : { diff: await diffOf(pool, input) };
      });
      return verdict;
    },
  };
}
