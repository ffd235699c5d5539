/**
 * Patch lifecycle activities: thin adapters that run the test stages, deploy, health-check and revert targets
 * through the domain modules, plus the bookkeeping of patch-bookkeeping.ts. What they store besides their result
 * (test logs, deployment rows, samples) is written best-effort: a database blip never turns a pushed commit or a
 * healthy sample into a failure; the workflow records the outcome again through its bookkeeping.
 *
 * Failures: a failing test stage or health check is a normal result. Git errors that a retry cannot fix
 * (`retryable === false`) become non-retryable ApplicationFailures whose `type` is the error class name
 * (PatchDoesNotApplyError, PatchRevertedError, RevertConflictError, RefNotFoundError, PushRejectedError, ...).
 */
import path from 'node:path';
import { ApplicationFailure, cancellationSignal, heartbeat } from '@temporalio/activity';
import { resolveActBinary } from '../ci-run';
import { type DiffSource, type PullRequestLink, type ResolvedFinding, type StageResult, type StageVerdict, type Target, type TestStage } from '../domain/types';
import { allowsLocalRepos } from '../config';
import { deliver, type DeliveryContext, undo } from '../delivery';
import { DeliveryError } from '../delivery/errors';
import { ForgeDirectory } from '../forges';
import { ForgeError } from '../forges/forge';
import {
  type Checkout,
  checkout,
  detachAt,
  disposeCheckout,
  GitError,
  type GitOptions,
  OperationAbortedError,
  PatchRevertedError,
} from '../git';
import { ciStatusCheckLabel, runCiStatusCheck } from '../health/ci-status-check';
import { AddressPolicy } from '../health/address-policy';
import { commandCheckLabel, runCommandCheck } from '../health/command-check';
import { healthSecretEnvironment } from '../health/header-secrets';
import { HealthCheckConfigError, httpCheckLabel, resolveHttpCheck, runHttpCheck } from '../health/http-check';
import type { HealthCheck } from '../health/schemas';
import type { HealthSample } from '../health/types';
import { fixCommit, nothingToFixReason, resolvedFindings } from '../patching/from-findings';
import { buildPatchReport } from '../reports/patch-report';
import { patchReportMarkdown } from '../reports/patch-report-markdown';
import { runStage, type StageReport, VERIFY_COMMAND_TIMEOUT_MS } from '../patching/stages';
import { runWorkflowRunStage } from '../patching/workflow-run-stage';
import { hasRevertMarker, loadDiff, saveRevertMarker } from '../store/patch-artifacts';
import { getTargetDiff, saveRegeneratedDiff, type TargetDiff } from '../store/patch-target-diffs';
import { saveTestRun } from '../store/patches';
import type { ActivityDeps } from './index';
import { bestEffort, createPatchBookkeeping, storeDeployment, storeHealthRound } from './patch-bookkeeping';

export { LIFECYCLE_ACTOR } from './patch-bookkeeping';
/** Heartbeats while an activity works; the SDK throttles them to the workflow's heartbeat timeout. */
const HEARTBEAT_INTERVAL_MS = 5_000;

/** The first version's test input, with the diff itself. */
export interface RunTestStageInput {
  patchId: string;
  stage: TestStage;
  target: Target;
  diff: string;
}

export type TestTargetInput = { patchId: string; stage: TestStage; target: Target } & DiffSource;

export type DeployTargetInput = {
  patchId: string;
  /** The commit's subject. */
  title: string;
  target: Target;
  /** 1-based. */
  wave: number;
  /** Guardians whose approval is recorded, one `Approved-by` trailer each. */
  approvedBy: string[];
  /** The workflow step of this deploy, for the deployment row; absent for runs started before steps were numbered. */
  seq?: number;
} & DiffSource;

export interface DeployTargetResult {
  commitSha: string;
  /** The branch tip the patch commit was made on. */
  previousCommit: string;
  /** True when the branch already had the patch commit (an earlier attempt pushed it). */
  reused: boolean;
  /** Set when a person closed the target's pull request or pushed to its branch: nothing was merged (commitSha is ''). */
  declined?: string;
  /** The pull request of a target delivered by pull request. */
  pullRequest?: PullRequestLink;
}

export interface CheckTargetHealthInput {
  patchId: string;
  target: Target;
  wave: number;
  /** The deployed commit: `{commit}` in check URLs, and where command checks and the verify command run. */
  commit: string;
  /** Number of the health round within the wave; with the wave it keys the stored samples. */
  round: number;
  /** Store the samples here too (first-version runs); later runs record them through their bookkeeping. */
  record?: boolean;
}

export interface RevertTargetInput {
  patchId: string;
  target: Target;
  wave: number;
  seq?: number;
  /** The patch's title and why it is rolled back, for the revert pull request (absent in runs before pull requests). */
  title?: string;
  reason?: string;
}

export interface RevertTargetResult {
  status: 'reverted' | 'nothing-to-revert';
  revertCommit: string | null;
  /** The revert pull request, or the patch's pull request closed unmerged. */
  pullRequest?: PullRequestLink;
}

/** Runs `work` while heartbeating its current step, so a stuck or lost worker is noticed. */
async function heartbeating<T>(work: (progress: (step: string) => void) => Promise<T>): Promise<T> {
  let step = 'starting';
  heartbeat(step);
  const timer = setInterval(() => heartbeat(step), HEARTBEAT_INTERVAL_MS);
  try {
    return await work((next) => {
      step = next;
      heartbeat(step);
    });
  } finally {
    clearInterval(timer);
  }
}

/** Turns git, forge and delivery errors a retry cannot fix into non-retryable failures typed by their class name. */
async function gitOperation<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // A cancelled activity rethrows as is: the SDK reports the cancellation itself.
    const final = (error instanceof GitError && !(error instanceof OperationAbortedError)) || error instanceof ForgeError || error instanceof DeliveryError;
    if (final && !error.retryable) throw ApplicationFailure.nonRetryable(error.message, error.name);
    throw error;
  }
}

/** A revert pull request's merge may wait this long for checks branch protection requires. */
const REVERT_MERGE_TIMEOUT_MS = 5 * 60_000;

/** A fresh checkout of the target's branch, moved to `commit`, removed after `use`. */
async function withCheckoutAt<T>(target: Target, commit: string, workRoot: string, git: GitOptions, use: (dir: string) => Promise<T>): Promise<T> {
  const clone = await checkout(target.repoUrl, target.branch, workRoot, git);
  try {
    if (clone.headSha !== commit) await detachAt(clone.dir, commit, git);
    return await use(clone.dir);
  } finally {
    await disposeCheckout(clone.dir);
  }
}

/**
 * What a test stage runs on a target's fresh checkout: the diff and, for a patch generated from findings, the
 * findings it claims to resolve and what happened to it before the stage (regeneration); or why it cannot run.
 */
type StageSubject = { diff: string; claims?: readonly ResolvedFinding[]; details?: Record<string, unknown> } | { refused: string; details: Record<string, unknown> };

/** A sample for a check that could not run at all: an error, counted apart from failures. */
function notRun(check: HealthCheck, detail: string): HealthSample {
  const label = check.type === 'http' ? httpCheckLabel(check) : check.type === 'command' ? commandCheckLabel(check) : ciStatusCheckLabel(check);
  return { ok: false, error: true, checkType: check.type, check: label, detail, latencyMs: 0, at: new Date().toISOString() };
}

export function createPatchActivities({ pool, config }: ActivityDeps) {
  const workRoot = path.join(config.dataDir, 'work');
  const repoUrlPolicy = { allowLocal: allowsLocalRepos(config) };
  const healthSecrets = healthSecretEnvironment(config.health, process.env);
  const healthAddressPolicy = new AddressPolicy(config.health);
  const forges = ForgeDirectory.load(config.forges.credentials);
  const { pollIntervalMs } = config.forges;

  /** One round of the target's checks; see checkTargetHealth. */
  async function sampleTarget(input: CheckTargetHealthInput, signal: AbortSignal, progress: (step: string) => void): Promise<HealthSample[]> {
    const { target, commit, patchId } = input;
    const verifyCommand = target.verifyCommand ?? [];
    const inCheckout = (dir: string) => ({ cwd: dir, settings: target.sandbox, sandbox: config.sandbox, signal });
    if (target.healthChecks.length === 0) {
      if (verifyCommand.length === 0) return [];
      progress('running the verify command on the deployed commit');
      const verify = { type: 'command', argv: verifyCommand, timeoutMs: VERIFY_COMMAND_TIMEOUT_MS } as const;
      return withCheckoutAt(target, commit, workRoot, { signal, repoUrlPolicy, config: await forges.gitAccess(target) }, async (dir) => [await runCommandCheck(verify, inCheckout(dir))]);
    }
    const runChecks = async (dir: string | undefined): Promise<HealthSample[]> => {
      const samples: HealthSample[] = [];
      for (const check of target.healthChecks) {
        progress(`running a ${check.type} check`);
        if (check.type === 'command') {
          samples.push(dir === undefined ? notRun(check, 'no checkout to run the command in') : await runCommandCheck(check, inCheckout(dir)));
          continue;
        }
        if (check.type === 'ci-status') {
          samples.push(await ciStatusSample(check, target, commit, signal, progress));
          continue;
        }
        try {
          samples.push(await runHttpCheck(resolveHttpCheck(check, { target: target.name, commit, patchId }, healthSecrets), { signal, addressPolicy: healthAddressPolicy }));
        } catch (error) {
          if (!(error instanceof HealthCheckConfigError)) throw error;
          samples.push(notRun(check, error.message));
        }
      }
      return samples;
    };
    const needsCheckout = target.healthChecks.some((check) => check.type === 'command');
    return needsCheckout ? withCheckoutAt(target, commit, workRoot, { signal, repoUrlPolicy, config: await forges.gitAccess(target) }, runChecks) : runChecks(undefined);
  }

  /** A ci-status sample of the deployed commit on the target's forge; an error sample when the target has none. */
  async function ciStatusSample(check: Extract<HealthCheck, { type: 'ci-status' }>, target: Target, commit: string, signal: AbortSignal, progress: (step: string) => void): Promise<HealthSample> {
    if (!target.forge) return notRun(check, 'the target names no forge to read CI results from');
    const problem = forges.problem(target.forge, target.repoUrl);
    if (problem !== undefined) return notRun(check, problem);
    const forge = forges.open(target.forge, target.repoUrl);
    return runCiStatusCheck(check, { forge, commit, branch: target.branch, pollIntervalMs, signal, beforePoll: () => Promise.resolve(progress('waiting for the CI results of the deployed commit')) });
  }

  /** What delivery needs to reach a target (src/delivery). */
  function deliveryContext(target: Target, patchId: string, signal: AbortSignal, progress: (step: string) => void): DeliveryContext {
    return { target, patchId, workRoot, git: { repoUrlPolicy }, forges, pollIntervalMs, signal, progress };
  }

  /** The patch report in Markdown: a pull request's description. */
  async function pullRequestBody(patchId: string): Promise<string> {
    const report = await buildPatchReport(pool, patchId, { url: config.temporal.uiUrl, namespace: config.temporal.namespace });
    if (!report) throw new Error(`patch ${patchId} is not in the read model yet`);
    return patchReportMarkdown(report);
  }

  /** The diff of an input: given, or read from the read model by its hash. */
  async function diffOf(source: DiffSource): Promise<string> {
    if ('diff' in source) return source.diff;
    const diff = await loadDiff(pool, source.diffSha256);
    if (diff === undefined) throw ApplicationFailure.nonRetryable(`no patch with a diff of SHA-256 ${source.diffSha256} is stored`, 'DiffNotFoundError');
    return diff;
  }

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

  /** Runs one test stage on a fresh checkout of the target and stores its result and log (best-effort). */
  async function testOnCheckout(
    input: { patchId: string; stage: TestStage; target: Target },
    subjectOf: (clone: Checkout, signal: AbortSignal, progress: (step: string) => void) => Promise<StageSubject>,
  ): Promise<StageResult> {
    const signal = cancellationSignal();
    const startedAt = new Date();
    const report = await heartbeating((progress) =>
      gitOperation(async (): Promise<StageReport> => {
        progress(`checking out ${input.target.name}`);
        const clone = await checkout(input.target.repoUrl, input.target.branch, workRoot, { signal, repoUrlPolicy, config: await forges.gitAccess(input.target) });
        try {
          const subject = await subjectOf(clone, signal, progress);
          if ('refused' in subject) {
            return { stage: input.stage, targetId: input.target.id, passed: false, summary: subject.refused, log: subject.refused, details: { commitSha: clone.headSha, ...subject.details } };
          }
          const report = input.stage === 'workflow-run'
            ? await workflowRunStage(clone.dir, subject.diff, input.target, signal, progress)
            : await runStage(input.stage, { dir: clone.dir, diff: subject.diff, claims: subject.claims, target: input.target, sandbox: config.sandbox, signal, progress });
          return { ...report, details: { ...report.details, ...subject.details } };
        } finally {
          await disposeCheckout(clone.dir);
        }
      }),
    );
    await bestEffort(`the ${input.stage} test of ${input.target.name}`, () => saveTestRun(pool, { ...report, patchId: input.patchId, startedAt, finishedAt: new Date() }));
    return { stage: report.stage, targetId: report.targetId, passed: report.passed, summary: report.summary, log: report.log };
  }

  /** The diff a target gets: its own (a patch generated from findings), else the patch's. */
  async function deployedDiff(input: DeployTargetInput): Promise<string> {
    const own = await getTargetDiff(pool, input.patchId, input.target.id);
    return own ? own.diff : diffOf(input);
  }

  return {
    ...createPatchBookkeeping(pool),

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
        own ? ownDiffAt(input.patchId, own, clone, signal, progress) : { diff: await diffOf(input) },
      );
      return verdict;
    },

    /**
     * Commits the target's diff (its own, or the patch's) on the target branch (once: a commit with the Patch-Id is reused). Refuses to push when a
     * revert of this patch on this target already found nothing to undo (the marker): the patch was given up.
     */
    async deployTarget(input: DeployTargetInput): Promise<DeployTargetResult> {
      const { target } = input;
      const signal = cancellationSignal();
      const diff = await deployedDiff(input);
      const refuseIfReverted = async (): Promise<void> => {
        if (await hasRevertMarker(pool, input.patchId, target.id)) throw new PatchRevertedError(input.patchId, 'a revert that found nothing to undo');
      };
      await gitOperation(refuseIfReverted);
      const delivered = await heartbeating((progress) =>
        gitOperation(() =>
          deliver({
            ...deliveryContext(target, input.patchId, signal, progress),
            diff,
            title: input.title,
            approvedBy: input.approvedBy,
            beforePush: refuseIfReverted,
            pullRequestBody: () => pullRequestBody(input.patchId),
          }),
        ),
      );
      const seq = input.seq === undefined ? {} : { seq: input.seq };
      if (delivered.kind === 'declined') {
        const { reason, pullRequest } = delivered;
        await bestEffort(`the declined deployment to ${target.name}`, () =>
          storeDeployment(pool, { patchId: input.patchId, targetId: target.id, targetName: target.name, wave: input.wave, status: 'declined', error: reason, ...(pullRequest ? { pullRequest } : {}), ...seq }),
        );
        return { commitSha: '', previousCommit: '', reused: false, declined: reason, ...(pullRequest ? { pullRequest } : {}) };
      }
      const pullRequest = delivered.pullRequest ? { pullRequest: delivered.pullRequest } : {};
      await bestEffort(`the deployment to ${target.name}`, () =>
        storeDeployment(pool, {
          patchId: input.patchId,
          targetId: target.id,
          targetName: target.name,
          wave: input.wave,
          status: 'deployed',
          deployedCommit: delivered.commitSha,
          previousCommit: delivered.previousCommit,
          ...(delivered.checks ? { note: `checks before the merge: ${delivered.checks}` } : {}),
          ...pullRequest,
          ...seq,
        }),
      );
      return { commitSha: delivered.commitSha, previousCommit: delivered.previousCommit, reused: delivered.reused, ...pullRequest };
    },

    /**
     * One health round of a deployed target: every check (HTTP; command checks in the sandbox, on a checkout at
     * the deployed commit), or, for a target without checks, its verify command on the deployed commit as one
     * `command` sample. A check that cannot run (missing variable, no sandbox on this worker) is an error sample.
     */
    async checkTargetHealth(input: CheckTargetHealthInput): Promise<HealthSample[]> {
      const signal = cancellationSignal();
      const samples = await heartbeating((progress) => gitOperation(() => sampleTarget(input, signal, progress)));
      if (input.record !== false) {
        const { patchId, target, wave, round, commit } = input;
        await bestEffort(`health round ${round} of ${target.name}`, () => storeHealthRound(pool, { patchId, target, wave, round, commit, samples }));
      }
      return samples;
    },

    /**
     * Reverts the patch commit on the target branch (once). When there is nothing to revert, leaves the marker
     * that stops a later deploy of this patch to this target before it reports so.
     */
    async revertTarget(input: RevertTargetInput): Promise<RevertTargetResult> {
      const { target } = input;
      const signal = cancellationSignal();
      const reverted = await heartbeating((progress) =>
        gitOperation(() =>
          undo({
            ...deliveryContext(target, input.patchId, signal, progress),
            title: input.title ?? `patch ${input.patchId}`,
            reason: input.reason ?? 'the patch is rolled back',
            mergeTimeoutMs: REVERT_MERGE_TIMEOUT_MS,
          }),
        ),
      );
      if (reverted.status === 'nothing-to-revert') await saveRevertMarker(pool, input.patchId, target.id);
      const { revertCommit } = reverted;
      const pullRequest = reverted.pullRequest ? { pullRequest: reverted.pullRequest } : {};
      await bestEffort(`the revert on ${target.name}`, () =>
        storeDeployment(pool, {
          patchId: input.patchId,
          targetId: target.id,
          targetName: target.name,
          wave: input.wave,
          status: reverted.status === 'reverted' ? 'reverted' : 'skipped',
          ...(revertCommit === null ? {} : { revertCommit }),
          ...(reverted.status === 'reverted' && reverted.pullRequest ? { revertPullRequest: reverted.pullRequest } : {}),
          // The patch's own pull request, closed unmerged: the deploy that opened it may have failed before saying so.
          ...(reverted.status === 'nothing-to-revert' && reverted.pullRequest ? { pullRequest: reverted.pullRequest, note: 'pull request closed without merging by the rollback' } : {}),
          ...(input.seq === undefined ? {} : { seq: input.seq }),
        }),
      );
      return { status: reverted.status, revertCommit, ...pullRequest };
    },
  };
}

export type PatchActivities = ReturnType<typeof createPatchActivities>;
