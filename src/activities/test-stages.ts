/**
 * The test-stage activities: each runs stages of a patch on the tip of one target branch and stores their results
 * and logs (best-effort). The tree stages of one activity share one preparation: the tip fetched into the branch's
 * cached repository (where its deploy lands from later; the patch's creation read may have fetched it already),
 * the patched tree made there and both sides read once; a checkout only for a verify command. The workflow-run
 * stage clones its own (it runs the target's jobs in it).
 */
import path from 'node:path';
import { ApplicationFailure, cancellationSignal } from '@temporalio/activity';
import type { Pool } from 'pg';
import { resolveActBinary } from '../ci-run';
import { allowsLocalRepos, gitWorkRoot } from '../config';
import type { DiffSource, ResolvedFinding, StageResult, StageVerdict, Target, TestStage } from '../domain/types';
import { ForgeDirectory } from '../forges';
import { atCachedBranchTip, checkout, disposeCheckout, type GitOptions } from '../git';
import { fixCommit, nothingToFixReason, resolvedFindings } from '../patching/from-findings';
import { type PreparedTree, prepareTree, runStageOnTree, type StageContext, type StageReport } from '../patching/stages';
import { runWorkflowRunStage, skipped, SWITCHED_OFF } from '../patching/workflow-run-stage';
import { loadDiff } from '../store/patch-artifacts';
import { getTargetDiff, saveRegeneratedDiff, type TargetDiff } from '../store/patch-target-diffs';
import { saveTestRuns, type TestRunInput } from '../store/patches';
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

/** Stages of one target, run in the order given. */
interface TargetStagesInput {
  patchId: string;
  target: Target;
  stages: readonly TestStage[];
}

export type TestTargetStagesInput = TargetStagesInput & DiffSource;

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

/**
 * Tests start without a fetch from the one a new patch's read handed over this recently (the API in this process,
 * moments before the lifecycle started). A branch that moves after that read is found by the deploy, whose push
 * carries the tip as lease, just as when it moves after the tests; the tested commit is in each stage's details.
 */
const TAKE_CREATION_FETCH_WITHIN_MS = 30_000;

/** The diff of an input: given, or read from the read model by its hash. */
export async function diffOf(pool: Pool, source: DiffSource): Promise<string> {
  if ('diff' in source) return source.diff;
  const diff = await loadDiff(pool, source.diffSha256);
  if (diff === undefined) throw ApplicationFailure.nonRetryable(`no patch with a diff of SHA-256 ${source.diffSha256} is stored`, 'DiffNotFoundError');
  return diff;
}

export function createTestStageActivities({ pool, config }: ActivityDeps) {
  const workRoot = gitWorkRoot(config);
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
   * What a target's tree stages run on (one activity runs them all on it): no checkout unless the target
   * has a verify command.
   */
  async function prepareStages(input: StageInput, subjectOf: SubjectOf, signal: AbortSignal, progress: (step: string) => void): Promise<PreparedStages> {
    const { target } = input;
    progress(`fetching ${target.name}`);
    const git = await gitOptions(target, signal);
    const context = { target, sandbox: config.sandbox, signal, progress };
    if (!target.verifyCommand?.length) {
      return atCachedBranchTip(target.repoUrl, target.branch, workRoot, git, async ({ gitDir, commitSha, treeWithDiff }) => {
        const subject = await subjectOf({ dir: gitDir, headSha: commitSha }, signal, progress);
        if ('refused' in subject) return { headSha: commitSha, subject };
        return { headSha: commitSha, subject, tree: await prepareTree({ ...context, gitDir, commit: commitSha, diff: subject.diff, claims: subject.claims, makeTree: treeWithDiff }) };
      }, { handedOverWithinMs: TAKE_CREATION_FETCH_WITHIN_MS });
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

  /** The workflow-run stage on a fresh clone of the target (it runs the target's jobs in it), unless switched off. */
  async function workflowRunAtTip(input: StageInput, subjectOf: SubjectOf, signal: AbortSignal, progress: (step: string) => void): Promise<StageReport> {
    const { target } = input;
    if (target.workflowRun === false) return { stage: 'workflow-run', targetId: target.id, ...skipped(SWITCHED_OFF) };
    progress(`fetching ${target.name}`);
    // The stage applies the diff itself, after running the jobs without it.
    const clone = await checkout(target.repoUrl, target.branch, workRoot, await gitOptions(target, signal));
    try {
      const subject = await subjectOf(clone, signal, progress);
      return await stageReport(input, { headSha: clone.headSha, subject }, (diff) => workflowRunStage(clone.dir, diff, target, signal, progress));
    } finally {
      await disposeCheckout(clone.dir);
    }
  }

  /**
   * Runs the stages of one target in order at the tip of its branch and stores their results and logs
   * (best-effort, in one write). The tree stages among them share one preparation: the tip read and patched once.
   */
  async function testAtTip(input: TargetStagesInput, subjectOf: SubjectOf): Promise<StageResult[]> {
    const signal = cancellationSignal();
    const { patchId, target } = input;
    const runs = await heartbeating(config.worker.firstHeartbeatMs, (progress) =>
      gitOperation(async () => {
        const done: TestRunInput[] = [];
        let prepared: PreparedStages | undefined;
        try {
          for (const stage of input.stages) {
            const startedAt = new Date();
            const stageInput = { patchId, stage, target };
            let report: StageReport;
            if (stage === 'workflow-run') report = await workflowRunAtTip(stageInput, subjectOf, signal, progress);
            else {
              prepared ??= await prepareStages(stageInput, subjectOf, signal, progress);
              const tree = prepared;
              report = await stageReport(stageInput, tree, (diff, claims) => {
                if (tree.tree === undefined) throw new Error(`no patched tree was prepared for the ${stage} stage`);
                return runStageOnTree(stage, tree.tree, { diff, claims, target, sandbox: config.sandbox, signal, progress, workTree: tree.checkoutDir });
              });
            }
            done.push({ ...report, patchId, startedAt, finishedAt: new Date() });
          }
        } finally {
          if (prepared?.checkoutDir !== undefined) await disposeCheckout(prepared.checkoutDir);
        }
        return done;
      }),
    );
    await bestEffort(`the ${input.stages.join(', ')} tests of ${target.name}`, () => saveTestRuns(pool, runs));
    return runs.map((run) => ({ stage: run.stage, targetId: run.targetId, passed: run.passed, summary: run.summary, log: run.log }));
  }

  /** A target's own diff (made again at a moved tip) or the patch's: read by the stage that prepares. */
  const subjectOfPatch =
    (patchId: string, target: Target, source: DiffSource): SubjectOf =>
    async (tip, signal, progress) => {
      const own = await getTargetDiff(pool, patchId, target.id);
      return own ? ownDiffAt(patchId, own, tip, signal, progress) : { diff: await diffOf(pool, source) };
    };

  const withoutLogs = (results: readonly StageResult[]): StageVerdict[] => results.map(({ log: _log, ...verdict }) => verdict);

  return {
    /** The first version's test stage: the diff in the input, the log in the result. */
    async runTestStage(input: RunTestStageInput): Promise<StageResult> {
      const [result] = await testAtTip({ ...input, stages: [input.stage] }, () => Promise.resolve({ diff: input.diff }));
      return result as StageResult;
    },

    /** One test stage of a target, as runs before TESTS_PER_TARGET_PATCH schedule them; the log stays in the read model. */
    async testTarget(input: TestTargetInput): Promise<StageVerdict> {
      const { stage, ...source } = input;
      const [verdict] = withoutLogs(await testAtTip({ ...source, stages: [stage] }, subjectOfPatch(input.patchId, input.target, source)));
      return verdict as StageVerdict;
    },

    /**
     * Runs stages of one target at the tip of its branch, in order; the logs stay in the read model. A target with
     * its own diff (a patch generated from findings) is tested with it, made again first should its branch have moved.
     */
    async testTargetStages(input: TestTargetStagesInput): Promise<StageVerdict[]> {
      return withoutLogs(await testAtTip(input, subjectOfPatch(input.patchId, input.target, input)));
    },
  };
}
