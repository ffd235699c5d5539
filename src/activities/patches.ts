/**
 * Patch lifecycle activities: thin adapters that run the test stages, deploy, health-check and revert targets
 * through the domain modules and record every step in the read model and the audit trail. Every write is keyed
 * (patch + seq, stage + target, guardian, target, round), so a retried activity never records anything twice.
 *
 * Failures: a failing test stage or health check is a normal result. Git errors that a retry cannot fix
 * (`retryable === false`) become non-retryable ApplicationFailures whose `type` is the error class name
 * (PatchDoesNotApplyError, PatchRevertedError, RevertConflictError, RefNotFoundError, PushRejectedError, ...).
 */
import path from 'node:path';
import { ApplicationFailure, cancellationSignal, heartbeat } from '@temporalio/activity';
import type {
  ApprovalRecord,
  DeploymentStatus,
  PatchStatus,
  StageResult,
  Target,
  TestStage,
} from '../domain/types';
import { allowsLocalRepos } from '../config';
import { checkout, deployPatch, detachAt, disposeCheckout, GitError, type GitOptions, OperationAbortedError, revertPatch } from '../git';
import { AddressPolicy } from '../health/address-policy';
import { commandCheckLabel, runCommandCheck } from '../health/command-check';
import { healthSecretEnvironment } from '../health/header-secrets';
import { HealthCheckConfigError, httpCheckLabel, resolveHttpCheck, runHttpCheck } from '../health/http-check';
import type { HealthCheck } from '../health/schemas';
import type { HealthSample } from '../health/types';
import { runStage, VERIFY_COMMAND_TIMEOUT_MS } from '../patching/stages';
import { appendAuditEvent } from '../store/audit';
import { recordPatchTransition, saveApproval, saveDeployment, saveHealthRound, saveTestRun } from '../store/patches';
import type { ActivityDeps } from './index';

/** The audit actor of what the lifecycle does on its own (people's decisions are recorded under their name). */
export const LIFECYCLE_ACTOR = 'system:patch-lifecycle';
/** Heartbeats while an activity works; the SDK throttles them to the workflow's heartbeat timeout. */
const HEARTBEAT_INTERVAL_MS = 5_000;

export interface RecordTransitionInput {
  patchId: string;
  /** Increases with every transition of the patch; a lower seq never overwrites the stored status. */
  seq: number;
  from: PatchStatus | null;
  to: PatchStatus;
  reason: string | null;
  /** ISO 8601, the workflow's time of the transition. */
  at: string;
}

export interface RunTestStageInput {
  patchId: string;
  stage: TestStage;
  target: Target;
  diff: string;
}

export interface RecordApprovalInput {
  patchId: string;
  approval: ApprovalRecord;
}

export interface DeployTargetInput {
  patchId: string;
  /** The commit message. */
  title: string;
  target: Target;
  /** 1-based. */
  wave: number;
  diff: string;
  /** Guardians who approved, one `Approved-by` trailer each. */
  approvedBy: string[];
}

export interface DeployTargetResult {
  commitSha: string;
  /** The branch tip the patch commit was made on. */
  previousCommit: string;
  /** True when the branch already had the patch commit (an earlier attempt pushed it). */
  reused: boolean;
}

export interface RecordDeploymentInput {
  patchId: string;
  targetId: string;
  wave: number;
  status: DeploymentStatus;
  error?: string | null;
}

export interface CheckTargetHealthInput {
  patchId: string;
  target: Target;
  wave: number;
  /** The deployed commit: `{commit}` in check URLs, and where command checks and the verify command run. */
  commit: string;
  /** Number of the health round within the wave; with the wave it keys the stored samples. */
  round: number;
}

export interface RevertTargetInput {
  patchId: string;
  target: Target;
  wave: number;
}

export interface RevertTargetResult {
  status: 'reverted' | 'nothing-to-revert';
  revertCommit: string | null;
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

/** Turns git errors a retry cannot fix into non-retryable failures typed by their class name. */
async function gitOperation<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // A cancelled activity rethrows as is: the SDK reports the cancellation itself.
    if (error instanceof GitError && !error.retryable && !(error instanceof OperationAbortedError)) {
      throw ApplicationFailure.nonRetryable(error.message, error.name);
    }
    throw error;
  }
}

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

/** A sample for a check that could not run at all: it counts as a failure of that check. */
function notRun(check: HealthCheck, detail: string): HealthSample {
  const label = check.type === 'http' ? httpCheckLabel(check) : commandCheckLabel(check);
  return { ok: false, checkType: check.type, check: label, detail, latencyMs: 0, at: new Date().toISOString() };
}

export function createPatchActivities({ pool, config }: ActivityDeps) {
  const workRoot = path.join(config.dataDir, 'work');
  const repoUrlPolicy = { allowLocal: allowsLocalRepos(config) };
  const healthSecrets = healthSecretEnvironment(config.health, process.env);
  const healthAddressPolicy = new AddressPolicy(config.health);

  /** One round of the target's checks; see checkTargetHealth. */
  async function sampleTarget(input: CheckTargetHealthInput, signal: AbortSignal, progress: (step: string) => void): Promise<HealthSample[]> {
    const { target, commit, patchId } = input;
    const verifyCommand = target.verifyCommand ?? [];
    const inCheckout = (dir: string) => ({ cwd: dir, settings: target.sandbox, sandbox: config.sandbox, signal });
    if (target.healthChecks.length === 0) {
      if (verifyCommand.length === 0) return [];
      progress('running the verify command on the deployed commit');
      const verify = { type: 'command', argv: verifyCommand, timeoutMs: VERIFY_COMMAND_TIMEOUT_MS } as const;
      return withCheckoutAt(target, commit, workRoot, { signal, repoUrlPolicy }, async (dir) => [await runCommandCheck(verify, inCheckout(dir))]);
    }
    const runChecks = async (dir: string | undefined): Promise<HealthSample[]> => {
      const samples: HealthSample[] = [];
      for (const check of target.healthChecks) {
        progress(`running a ${check.type} check`);
        if (check.type === 'command') {
          samples.push(dir === undefined ? notRun(check, 'no checkout to run the command in') : await runCommandCheck(check, inCheckout(dir)));
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
    return needsCheckout ? withCheckoutAt(target, commit, workRoot, { signal, repoUrlPolicy }, runChecks) : runChecks(undefined);
  }

  return {
    /** Records a status change of the patch: history row, current status (if newest), audit `patch.<to>`. */
    async recordTransition(input: RecordTransitionInput): Promise<void> {
      await recordPatchTransition(pool, input);
      await appendAuditEvent(pool, {
        actor: LIFECYCLE_ACTOR,
        action: `patch.${input.to}`,
        subjectType: 'patch',
        subjectId: input.patchId,
        details: { seq: input.seq, from: input.from, to: input.to, reason: input.reason },
        idempotencyKey: `patch:${input.patchId}:transition:${input.seq}`,
        at: new Date(input.at),
      });
    },

    /** Runs one test stage on a fresh checkout of the target and stores the result. */
    async runTestStage(input: RunTestStageInput): Promise<StageResult> {
      const signal = cancellationSignal();
      const startedAt = new Date();
      const report = await heartbeating((progress) =>
        gitOperation(async () => {
          progress(`checking out ${input.target.name}`);
          const clone = await checkout(input.target.repoUrl, input.target.branch, workRoot, { signal, repoUrlPolicy });
          try {
            return await runStage(input.stage, { dir: clone.dir, diff: input.diff, target: input.target, sandbox: config.sandbox, signal, progress });
          } finally {
            await disposeCheckout(clone.dir);
          }
        }),
      );
      await saveTestRun(pool, { ...report, patchId: input.patchId, startedAt, finishedAt: new Date() });
      return { stage: report.stage, targetId: report.targetId, passed: report.passed, summary: report.summary, log: report.log };
    },

    /** Records a guardian's decision and audits it as `patch.approved` / `patch.rejected`. */
    async recordApproval(input: RecordApprovalInput): Promise<void> {
      const { approval } = input;
      await saveApproval(pool, input.patchId, approval);
      await appendAuditEvent(pool, {
        actor: approval.guardian,
        roles: ['guardian'],
        action: `patch.${approval.decision}`,
        subjectType: 'patch',
        subjectId: input.patchId,
        details: { comment: approval.comment },
        idempotencyKey: `patch:${input.patchId}:approval:${approval.guardian}`,
        at: new Date(approval.at),
      });
    },

    /** Commits the diff on the target branch (once: a commit with the Patch-Id is reused) and records it. */
    async deployTarget(input: DeployTargetInput): Promise<DeployTargetResult> {
      const { target } = input;
      const signal = cancellationSignal();
      const deployed = await heartbeating(() =>
        gitOperation(() =>
          deployPatch({
            repoUrl: target.repoUrl,
            branch: target.branch,
            workRoot,
            diff: input.diff,
            patchId: input.patchId,
            subject: input.title,
            trailers: { 'Approved-by': input.approvedBy },
            signal,
            repoUrlPolicy,
          }),
        ),
      );
      await saveDeployment(pool, {
        patchId: input.patchId,
        targetId: target.id,
        wave: input.wave,
        status: 'deployed',
        deployedCommit: deployed.commitSha,
        previousCommit: deployed.previousTipSha,
      });
      await appendAuditEvent(pool, {
        actor: LIFECYCLE_ACTOR,
        action: 'deployment.deployed',
        subjectType: 'patch',
        subjectId: input.patchId,
        details: { targetId: target.id, targetName: target.name, wave: input.wave, commitSha: deployed.commitSha, previousCommit: deployed.previousTipSha, reused: deployed.reused },
        idempotencyKey: `patch:${input.patchId}:deploy:${target.id}`,
      });
      return { commitSha: deployed.commitSha, previousCommit: deployed.previousTipSha, reused: deployed.reused };
    },

    /** Sets a deployment's status (`deploying`, `failed`, `reverting`, `revert_failed`) and error. */
    async recordDeployment(input: RecordDeploymentInput): Promise<void> {
      await saveDeployment(pool, input);
    },

    /**
     * One health round of a deployed target: every check (HTTP; command checks in the sandbox, on a checkout at
     * the deployed commit), or, for a target without checks, its verify command on the deployed commit as one
     * `command` sample. A check that cannot run (missing variable, no sandbox on this worker) is a failed sample.
     * Stores the samples and returns them.
     */
    async checkTargetHealth(input: CheckTargetHealthInput): Promise<HealthSample[]> {
      const signal = cancellationSignal();
      const samples = await heartbeating((progress) => gitOperation(() => sampleTarget(input, signal, progress)));
      await saveHealthRound(pool, { patchId: input.patchId, targetId: input.target.id, wave: input.wave, round: input.round, samples });
      await appendAuditEvent(pool, {
        actor: LIFECYCLE_ACTOR,
        action: 'health.sampled',
        subjectType: 'patch',
        subjectId: input.patchId,
        details: {
          targetId: input.target.id,
          targetName: input.target.name,
          wave: input.wave,
          round: input.round,
          commit: input.commit,
          samples: samples.map(({ check, ok, detail }) => ({ check, ok, detail })),
        },
        idempotencyKey: `patch:${input.patchId}:health:${input.target.id}:${input.wave}:${input.round}`,
      });
      return samples;
    },

    /** Reverts the patch commit on the target branch (once) and records it; nothing deployed is `skipped`. */
    async revertTarget(input: RevertTargetInput): Promise<RevertTargetResult> {
      const { target } = input;
      const signal = cancellationSignal();
      const reverted = await heartbeating(() =>
        gitOperation(() => revertPatch({ repoUrl: target.repoUrl, branch: target.branch, workRoot, patchId: input.patchId, signal, repoUrlPolicy })),
      );
      const revertCommit = reverted.status === 'reverted' ? reverted.revertSha : null;
      await saveDeployment(pool, {
        patchId: input.patchId,
        targetId: target.id,
        wave: input.wave,
        status: reverted.status === 'reverted' ? 'reverted' : 'skipped',
        ...(revertCommit === null ? {} : { revertCommit }),
      });
      await appendAuditEvent(pool, {
        actor: LIFECYCLE_ACTOR,
        action: 'deployment.reverted',
        subjectType: 'patch',
        subjectId: input.patchId,
        details: {
          targetId: target.id,
          targetName: target.name,
          wave: input.wave,
          status: reverted.status,
          revertCommit,
          ...(reverted.status === 'nothing-to-revert' ? { reason: reverted.reason } : { reused: reverted.reused }),
        },
        idempotencyKey: `patch:${input.patchId}:revert:${target.id}`,
      });
      return { status: reverted.status, revertCommit };
    },
  };
}

export type PatchActivities = ReturnType<typeof createPatchActivities>;
