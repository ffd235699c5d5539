/**
 * The test-stage activities: each runs one stage of a patch on a checkout of a target and stores its result and
 * log (best-effort). The four tree stages of a target, which run at the same time, share one checkout with the
 * diff applied and both sides read once; the workflow-run stage clones its own (it runs the target's jobs in it).
 */
import path from 'node:path';
import { ApplicationFailure, cancellationSignal } from '@temporalio/activity';
import type { Pool } from 'pg';
import { resolveActBinary } from '../ci-run';
import { allowsLocalRepos } from '../config';
import type { DiffSource, ResolvedFinding, StageResult, StageVerdict, Target, TestStage } from '../domain/types';
import { ForgeDirectory } from '../forges';
import { type Checkout, checkout, disposeCheckout } from '../git';
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

/** The diff a stage tests on a checkout (the patch's, or the target's own made again at its tip), or why none. */
type SubjectOf = (clone: Checkout, signal: AbortSignal, progress: (step: string) => void) => Promise<StageSubject>;

/** A checkout prepared for a target's stages: its subject and, for the tree stages, the patched tree read once. */
interface StageCheckout {
  clone: Checkout;
  subject: StageSubject;
  tree?: PreparedTree;
}

/** The diff of an input: given, or read from the read model by its hash. */
export async function diffOf(pool: Pool, source: DiffSource): Promise<string> {
  if ('diff' in source) return source.diff;
  const diff = await loadDiff(pool, source.diffSha256);
  if (diff === undefined) throw ApplicationFailure.nonRetryable(`no patch with a diff of SHA-256 ${source.diffSha256} is stored`, 'DiffNotFoundError');
  return diff;
}

export function createTestStageActivities({ pool, config }: ActivityDeps) {
  const stageCheckouts = new ConcurrentShare<StageCheckout>((prepared) => disposeCheckout(prepared.clone.dir));
  const workRoot = path.join(config.dataDir, 'work');
  const repoUrlPolicy = { allowLocal: allowsLocalRepos(config) };
  const forges = ForgeDirectory.load(config.forges.credentials);

  /**
   * A target's own diff at the checkout's tip. When the branch moved since the diff was made, the fixer makes it
   * again at the tip with the same selection and the new diff replaces the stored one (deploys use it); when
   * nothing of it applies there any more, the stage fails saying so.
   */
  async function ownDiffAt(patchId: string, own: TargetDiff, clone: Checkout, signal: AbortSignal, progress: (step: string) => void): Promise<StageSubject> {
    if (clone.headSha === own.baseCommit) return { diff: own.diff, claims: own.findings };
    progress(`the branch moved since the patch was made: fixing ${clone.headSha.slice(0, 12)} again`);
    const moved = { from: own.baseCommit, to: clone.headSha };
    const { outcome } = await fixCommit(clone.dir, undefined, own.selection, { git: { signal }, actions: config.actions });
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

  /**
   * The checkout of a target the tree stages test, with the diff applied and both sides read: the four tree stages
   * of a target run at the same time, and one clone serves them all (the workflow-run stage, which runs jobs in
   * its checkout, clones its own).
   */
  async function prepareStageCheckout(input: StageInput, subjectOf: SubjectOf, signal: AbortSignal, progress: (step: string) => void): Promise<StageCheckout> {
    const clone = await checkout(input.target.repoUrl, input.target.branch, workRoot, { signal, repoUrlPolicy, config: await forges.gitAccess(input.target) });
    try {
      const subject = await subjectOf(clone, signal, progress);
      // The workflow-run stage applies the diff itself, after running the jobs without it.
      if ('refused' in subject || input.stage === 'workflow-run') return { clone, subject };
      const tree = await prepareTree({ dir: clone.dir, diff: subject.diff, claims: subject.claims, target: input.target, sandbox: config.sandbox, signal, progress });
      return { clone, subject, tree };
    } catch (error) {
      await disposeCheckout(clone.dir);
      throw error;
    }
  }

  /** A stage's report on a prepared checkout: the refusal of its subject, or the stage run on it. */
  async function stageReport(input: StageInput, prepared: StageCheckout, run: (diff: string, claims: StageContext['claims']) => Promise<StageReport>): Promise<StageReport> {
    const { clone, subject } = prepared;
    if ('refused' in subject) {
      return { stage: input.stage, targetId: input.target.id, passed: false, summary: subject.refused, log: subject.refused, details: { commitSha: clone.headSha, ...subject.details } };
    }
    const report = await run(subject.diff, subject.claims);
    return { ...report, details: { ...report.details, ...subject.details } };
  }

  /** Runs one test stage on a checkout of the target and stores its result and log (best-effort). */
  async function testOnCheckout(input: StageInput, subjectOf: SubjectOf): Promise<StageResult> {
    const signal = cancellationSignal();
    const startedAt = new Date();
    const { stage, target } = input;
    const report = await heartbeating((progress) =>
      gitOperation(async (): Promise<StageReport> => {
        progress(`checking out ${target.name}`);
        if (stage === 'workflow-run') {
          if (target.workflowRun === false) return { stage, targetId: target.id, ...skipped(SWITCHED_OFF) };
          const prepared = await prepareStageCheckout(input, subjectOf, signal, progress);
          try {
            return await stageReport(input, prepared, (diff) => workflowRunStage(prepared.clone.dir, diff, target, signal, progress));
          } finally {
            await disposeCheckout(prepared.clone.dir);
          }
        }
        // Keyed by patch and target: within one patch a target's diff does not change.
        const key = [input.patchId, target.id, target.repoUrl, target.branch].join('\0');
        return stageCheckouts.use(
          key,
          (shareSignal) => prepareStageCheckout(input, subjectOf, shareSignal, progress),
          (prepared) =>
            stageReport(input, prepared, (diff, claims) => {
              if (prepared.tree === undefined) throw new Error(`no patched tree was prepared for the ${stage} stage`);
              return runStageOnTree(stage, prepared.tree, { dir: prepared.clone.dir, diff, claims, target, sandbox: config.sandbox, signal, progress });
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
      return testOnCheckout(input, () => Promise.resolve({ diff: input.diff }));
    },

    /**
     * Runs one test stage on a fresh checkout of the target; the log stays in the read model. A target with its own
     * diff (a patch generated from findings) is tested with it, made again first should its branch have moved.
     */
    async testTarget(input: TestTargetInput): Promise<StageVerdict> {
      const own = await getTargetDiff(pool, input.patchId, input.target.id);
      const { log: _log, ...verdict } = await testOnCheckout(input, async (clone, signal, progress) =>
        own ? ownDiffAt(input.patchId, own, clone, signal, progress) : { diff: await diffOf(pool, input) },
      );
      return verdict;
    },
  };
}
