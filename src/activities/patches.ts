/**
 * Patch lifecycle activities: thin adapters that deploy, health-check and revert targets through the domain
 * modules, plus the test stages of test-stages.ts and the bookkeeping of patch-bookkeeping.ts. What they store besides their result
 * (test logs, deployment rows, samples) is written best-effort: a database blip never turns a pushed commit or a
 * healthy sample into a failure; the workflow records the outcome again through its bookkeeping.
 *
 * Failures: a failing test stage or health check is a normal result. Git errors that a retry cannot fix
 * (`retryable === false`) become non-retryable ApplicationFailures whose `type` is the error class name
 * (PatchDoesNotApplyError, PatchRevertedError, RevertConflictError, RefNotFoundError, PushRejectedError, ...).
 */
import { cancellationSignal } from '@temporalio/activity';
import type { DiffSource, PullRequestLink, Target } from '../domain/types';
import { allowsLocalRepos, gitWorkRoot } from '../config';
import { deliver, type DeliveryContext, undo } from '../delivery';
import { ForgeDirectory } from '../forges';
import { checkout, detachAt, disposeCheckout, type GitOptions, PatchRevertedError } from '../git';
import { ciStatusCheckLabel, runCiStatusCheck } from '../health/ci-status-check';
import { AddressPolicy } from '../health/address-policy';
import { commandCheckLabel, runCommandCheck } from '../health/command-check';
import { healthSecretEnvironment } from '../health/header-secrets';
import { HealthCheckConfigError, httpCheckLabel, resolveHttpCheck, runHttpCheck } from '../health/http-check';
import type { HealthCheck } from '../health/schemas';
import type { HealthSample } from '../health/types';
import { buildPatchReport } from '../reports/patch-report';
import { patchReportMarkdown } from '../reports/patch-report-markdown';
import { VERIFY_COMMAND_TIMEOUT_MS } from '../patching/stages';
import { hasRevertMarker, saveRevertMarker } from '../store/patch-artifacts';
import { getTargetDiff } from '../store/patch-target-diffs';
import type { ActivityDeps } from './index';
import { gitOperation, heartbeating } from './activity-work';
import { bestEffort, createPatchBookkeeping, storeDeployment, storeHealthRound } from './patch-bookkeeping';
import { createTestStageActivities, diffOf } from './test-stages';

export { LIFECYCLE_ACTOR } from './patch-bookkeeping';

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
  /** True when the activity stored the deployment's row (with its audit event) itself: the workflow need not. */
  recorded?: boolean;
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

/** A sample for a check that could not run at all: an error, counted apart from failures. */
function notRun(check: HealthCheck, detail: string): HealthSample {
  const label = check.type === 'http' ? httpCheckLabel(check) : check.type === 'command' ? commandCheckLabel(check) : ciStatusCheckLabel(check);
  return { ok: false, error: true, checkType: check.type, check: label, detail, latencyMs: 0, at: new Date().toISOString() };
}

export function createPatchActivities(deps: ActivityDeps) {
  const { pool, config } = deps;
  const workRoot = gitWorkRoot(config);
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

  /** The diff a target gets: its own (a patch generated from findings), else the patch's. */
  async function deployedDiff(input: DeployTargetInput): Promise<string> {
    const own = await getTargetDiff(pool, input.patchId, input.target.id);
    return own ? own.diff : diffOf(pool, input);
  }

  return {
    ...createPatchBookkeeping(pool),
    ...createTestStageActivities(deps),

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
      const delivered = await heartbeating(config.worker.firstHeartbeatMs, (progress) =>
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
        const recorded = await bestEffort(`the declined deployment to ${target.name}`, () =>
          storeDeployment(pool, { patchId: input.patchId, targetId: target.id, targetName: target.name, wave: input.wave, status: 'declined', error: reason, ...(pullRequest ? { pullRequest } : {}), ...seq }),
        );
        return { commitSha: '', previousCommit: '', reused: false, declined: reason, ...(pullRequest ? { pullRequest } : {}), recorded };
      }
      const pullRequest = delivered.pullRequest ? { pullRequest: delivered.pullRequest } : {};
      const recorded = await bestEffort(`the deployment to ${target.name}`, () =>
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
      return { commitSha: delivered.commitSha, previousCommit: delivered.previousCommit, reused: delivered.reused, ...pullRequest, recorded };
    },

    /**
     * One health round of a deployed target: every check (HTTP; command checks in the sandbox, on a checkout at
     * the deployed commit), or, for a target without checks, its verify command on the deployed commit as one
     * `command` sample. A check that cannot run (missing variable, no sandbox on this worker) is an error sample.
     */
    async checkTargetHealth(input: CheckTargetHealthInput): Promise<HealthSample[]> {
      const signal = cancellationSignal();
      const samples = await heartbeating(config.worker.firstHeartbeatMs, (progress) => gitOperation(() => sampleTarget(input, signal, progress)));
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
      const reverted = await heartbeating(config.worker.firstHeartbeatMs, (progress) =>
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
