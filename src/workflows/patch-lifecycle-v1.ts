/**
 * The first version of the patch lifecycle, kept unchanged for runs that started before `lifecycle-v2` (see
 * patch-lifecycle.ts): a worker must replay them with exactly the commands they recorded. New runs never enter it.
 * Remove it (and the `patched` call) once no run started before v2 is open: `temporal workflow list --query
 * 'WorkflowType="patchLifecycleWorkflow" AND ExecutionStatus="Running"'` shows none without the v2 marker.
 */
import {
  ActivityFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PatchActivities } from '../activities/patches';
import {
  type ApprovalRecord,
  type PatchSpec,
  type PatchState,
  type PatchStatus,
  type Target,
  type TargetDeployment,
  TERMINAL_PATCH_STATUSES,
  TREE_STAGES,
} from '../domain/types';
import { evaluateHealth } from '../health/evaluate';
import type { HealthSample } from '../health/types';
import {
  type AbortInput,
  abortSignal,
  type ApproveInput,
  approveUpdate,
  type PauseInput,
  patchStatusQuery,
  pauseUpdate,
  type RejectInput,
  rejectUpdate,
  type ResumeInput,
  resumeUpdate,
} from './patch-messages';
import { planWaves } from './rollout-plan';
import { patchStatusKey, patchTargetsKey, patchTypeKey } from './search-attributes';

/** How many recent health samples per target the state keeps. */
const RECENT_SAMPLES = 5;

const bookkeeping = proxyActivities<PatchActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 20, maximumInterval: '30 seconds' },
});
/** Activities heartbeat every 5 s; a worker that died is noticed after this long and its activity retried elsewhere. */
const HEARTBEAT_TIMEOUT = '20 seconds';
const TESTING_OPTIONS = { startToCloseTimeout: '20 minutes', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: { maximumAttempts: 3 } };
const testing = proxyActivities<PatchActivities>(TESTING_OPTIONS);
const DEPLOY_OPTIONS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: {
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['PatchDoesNotApplyError', 'PatchRevertedError', 'InvalidDiffError', 'InvalidInputError', 'RefNotFoundError'],
  },
};
const deploying = proxyActivities<PatchActivities>(DEPLOY_OPTIONS);
const HEALTH_OPTIONS = { startToCloseTimeout: '15 minutes', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: { maximumAttempts: 2 } };
const checking = proxyActivities<PatchActivities>(HEALTH_OPTIONS);
/** Compensation tries hard: a half-rolled-back fleet is the worst outcome. */
const REVERT_OPTIONS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 10, maximumInterval: '1 minute', nonRetryableErrorTypes: ['RevertConflictError', 'InvalidInputError'] },
};
const reverting = proxyActivities<PatchActivities>(REVERT_OPTIONS);

function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

function isMonitored(target: Target): boolean {
  return target.healthChecks.length > 0 || target.verifyCommand !== null;
}

export async function patchLifecycleV1(spec: PatchSpec): Promise<PatchState> {
  const state: PatchState = {
    patchId: spec.id,
    status: 'pending',
    statusReason: null,
    currentStep: 'created',
    tests: [],
    approvals: [],
    waves: [],
    currentWave: 0,
    paused: false,
    deployments: [],
  };
  let seq = 0;
  let abort: AbortInput | undefined;
  const targetsById = new Map(spec.targets.map((target) => [target.id, target]));
  const approvedBy = (): string[] => state.approvals.filter((a) => a.decision === 'approved').map((a) => a.guardian);
  const rejection = (): ApprovalRecord | undefined => state.approvals.find((a) => a.decision === 'rejected');
  const isTerminal = (): boolean => TERMINAL_PATCH_STATUSES.includes(state.status);

  // Handlers first, before any await, so no message arriving at start is lost or rejected.
  setHandler(patchStatusQuery, () => state, { description: 'The full state: tests, approvals, waves, deployments.' });

  const decide = async (approval: ApprovalRecord): Promise<PatchState> => {
    state.approvals.push(approval);
    await bookkeeping.recordApproval({ patchId: spec.id, approval });
    return state;
  };
  const assertAwaitingDecision = (guardian: string): void => {
    if (state.status !== 'awaiting_approval') throw new Error(`the patch is ${state.status}, not awaiting approval`);
    if (guardian === spec.author) throw new Error('the author of a patch cannot approve or reject it');
    if (state.approvals.some((a) => a.guardian === guardian)) throw new Error(`${guardian} has already decided on this patch`);
  };
  setHandler(
    approveUpdate,
    ({ guardian, comment }) => decide({ guardian, decision: 'approved', comment, at: new Date().toISOString() }),
    { validator: ({ guardian }: ApproveInput) => assertAwaitingDecision(guardian), description: 'A Guardian approves the rollout.' },
  );
  setHandler(
    rejectUpdate,
    ({ guardian, reason }) => decide({ guardian, decision: 'rejected', comment: reason, at: new Date().toISOString() }),
    { validator: ({ guardian }: RejectInput) => assertAwaitingDecision(guardian), description: 'A Guardian rejects the patch.' },
  );
  setHandler(
    pauseUpdate,
    ({ by, reason }) => {
      state.paused = true;
      return transition('paused', reason ? `paused by ${by}: ${reason}` : `paused by ${by}`).then(() => state);
    },
    {
      validator: (_input: PauseInput) => {
        if (state.status !== 'deploying') throw new Error(`only a deploying patch can be paused; this one is ${state.status}`);
      },
      description: 'Hold the rollout between steps; health checks keep running.',
    },
  );
  setHandler(
    resumeUpdate,
    ({ by }) => {
      state.paused = false;
      return transition('deploying', `resumed by ${by}`).then(() => state);
    },
    {
      validator: (_input: ResumeInput) => {
        if (state.status !== 'paused') throw new Error(`only a paused patch can be resumed; this one is ${state.status}`);
      },
      description: 'Continue a paused rollout.',
    },
  );
  setHandler(
    abortSignal,
    (input) => {
      if (!isTerminal() && abort === undefined) abort = input;
    },
    { description: 'Stop and roll back everything deployed.' },
  );

  function showStep(step: string): void {
    state.currentStep = step;
    setCurrentDetails(`**${state.status}**: ${step}`);
  }

  async function transition(to: PatchStatus, reason: string | null): Promise<void> {
    const from = state.status;
    state.status = to;
    state.statusReason = reason;
    seq += 1;
    upsertSearchAttributes([{ key: patchStatusKey, value: to }]);
    showStep(reason ?? to);
    await bookkeeping.recordTransition({ patchId: spec.id, seq, from, to, reason, at: new Date().toISOString() });
  }

  async function finish(): Promise<PatchState> {
    await condition(allHandlersFinished);
    return state;
  }

  upsertSearchAttributes([
    { key: patchTypeKey, value: spec.type },
    { key: patchTargetsKey, value: spec.targets.map((target) => target.name) },
  ]);

  try {
    // 1. Test, stage by stage, on every target; the first failing stage ends the patch.
    await transition('testing', null);
    for (const stage of TREE_STAGES) {
      showStep(`testing: ${stage} on ${spec.targets.length} target(s)`);
      let results;
      try {
        results = await Promise.all(
          spec.targets.map((target) =>
            testing.runTestStage.executeWithOptions(
              { ...TESTING_OPTIONS, summary: `${stage} test on ${target.name}` },
              [{ patchId: spec.id, stage, target, diff: spec.diff }],
            ),
          ),
        );
      } catch (error) {
        if (isCancellation(error)) throw error;
        await transition('test_failed', `the ${stage} stage could not run: ${failureMessage(error)}`);
        return await finish();
      }
      state.tests.push(...results);
      const failed = results.filter((result) => !result.passed);
      if (failed.length > 0) {
        const names = failed.map((result) => targetsById.get(result.targetId)?.name ?? result.targetId).join(', ');
        await transition('test_failed', `${stage} stage failed on ${names}: ${failed[0]?.summary ?? ''}`);
        return await finish();
      }
      if (abort) {
        await transition('cancelled', `aborted by ${abort.by} during testing: ${abort.reason}`);
        return await finish();
      }
    }

    // 2. Guardian approval: a quorum of distinct guardians other than the author, before the deadline.
    await transition('awaiting_approval', `needs ${spec.approval.quorum} approval(s) within ${spec.approval.timeoutSeconds} s`);
    const decided = await condition(
      () => approvedBy().length >= spec.approval.quorum || rejection() !== undefined || abort !== undefined,
      `${spec.approval.timeoutSeconds} seconds`,
      { summary: 'waiting for Guardian approval' },
    );
    if (abort) {
      await transition('cancelled', `aborted by ${abort.by} before deployment: ${abort.reason}`);
      return await finish();
    }
    const rejected = rejection();
    if (rejected) {
      await transition('rejected', `rejected by ${rejected.guardian}: ${rejected.comment ?? ''}`);
      return await finish();
    }
    if (!decided) {
      await transition('expired', `no quorum of ${spec.approval.quorum} within ${spec.approval.timeoutSeconds} s`);
      return await finish();
    }

    // 3. Progressive deployment with a health loop after each wave.
    const rollbackReason = await rollOut(spec, state, {
      transition,
      showStep,
      approvedBy,
      aborted: () => abort,
    });
    if (rollbackReason === undefined) {
      await transition('deployed', `deployed to ${spec.targets.length} target(s)`);
      return await finish();
    }
    await rollBack(spec, state, rollbackReason, transition);
    return await finish();
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // The run itself was cancelled: undo what was deployed, then record the outcome, whatever else is cancelled.
    await CancellationScope.nonCancellable(async () => {
      if (state.deployments.length > 0) await rollBack(spec, state, 'the workflow run was cancelled', transition);
      else await transition('cancelled', 'the workflow run was cancelled');
    });
    throw error;
  }
}

interface RolloutHooks {
  transition: (to: PatchStatus, reason: string | null) => Promise<void>;
  showStep: (step: string) => void;
  approvedBy: () => string[];
  aborted: () => AbortInput | undefined;
}

/** Deploys wave after wave; returns the reason to roll back, or undefined when every wave stayed healthy. */
async function rollOut(spec: PatchSpec, state: PatchState, hooks: RolloutHooks): Promise<string | undefined> {
  const waves = planWaves(spec.targets, spec.rollout.waves.map((wave) => wave.percent));
  state.waves = waves.map((wave) => wave.map((target) => target.id));
  const { intervalSeconds, windowSeconds, failureThreshold } = spec.rollout.health;
  const samples: Record<string, HealthSample[]> = {};
  const live: Array<{ target: Target; deployment: TargetDeployment }> = [];
  /** Numbers health rounds across waves: samples are stored under (target, round). */
  let healthRound = 0;
  await hooks.transition('deploying', `approved by ${hooks.approvedBy().join(', ')}`);

  for (const [index, wave] of waves.entries()) {
    const waveNumber = index + 1;
    state.currentWave = waveNumber;
    const abort = hooks.aborted();
    if (abort) return `aborted by ${abort.by}: ${abort.reason}`;

    // Deploy the wave's new targets, a few at a time. Each deployment is registered before its activity starts,
    // so a deploy that half-happened (pushed, then the worker died) is still compensated.
    hooks.showStep(`deploying wave ${waveNumber} of ${waves.length} (${wave.length} target(s))`);
    for (let start = 0; start < wave.length; start += spec.rollout.parallelism) {
      const batch = wave.slice(start, start + spec.rollout.parallelism);
      const outcomes = await Promise.all(
        batch.map(async (target) => {
          const deployment: TargetDeployment = {
            targetId: target.id,
            targetName: target.name,
            wave: waveNumber,
            status: 'deploying',
            deployedCommit: null,
            previousCommit: null,
            revertCommit: null,
            error: null,
            lastSamples: [],
          };
          state.deployments.push(deployment);
          await bookkeeping.recordDeployment({ patchId: spec.id, targetId: target.id, wave: waveNumber, status: 'deploying' });
          try {
            const result = await deploying.deployTarget.executeWithOptions(
              { ...DEPLOY_OPTIONS, summary: `deploy ${target.name} (wave ${waveNumber} of ${waves.length})` },
              [{ patchId: spec.id, title: spec.title, target, wave: waveNumber, diff: spec.diff, approvedBy: hooks.approvedBy() }],
            );
            Object.assign(deployment, { status: 'deployed', deployedCommit: result.commitSha, previousCommit: result.previousCommit });
            if (isMonitored(target)) live.push({ target, deployment });
            return undefined;
          } catch (error) {
            if (isCancellation(error)) throw error;
            const message = failureMessage(error);
            Object.assign(deployment, { status: 'failed', error: message });
            await bookkeeping.recordDeployment({ patchId: spec.id, targetId: target.id, wave: waveNumber, status: 'failed', error: message });
            return `deploying to ${target.name} failed: ${message}`;
          }
        }),
      );
      const failure = outcomes.find((outcome) => outcome !== undefined);
      if (failure) return failure;
    }

    // Watch every deployed target for the wave's window; a pause holds here while the checks keep running.
    let elapsed = 0;
    for (let round = 1; ; round += 1) {
      healthRound += 1;
      hooks.showStep(`wave ${waveNumber} of ${waves.length}: health round ${round}${state.paused ? ' (paused)' : ''}`);
      const rounds = await Promise.all(
        live.map(({ target, deployment }) =>
          checking.checkTargetHealth.executeWithOptions(
            { ...HEALTH_OPTIONS, summary: `health of ${target.name} (wave ${waveNumber}, round ${round})` },
            [{ patchId: spec.id, target, wave: waveNumber, commit: deployment.deployedCommit ?? '', round: healthRound }],
          ).catch((error: unknown): HealthSample[] => {
            if (isCancellation(error)) throw error;
            // A check that cannot even run counts as a failed sample, not as a crash of the rollout.
            return [{ ok: false, checkType: 'command', check: 'health check activity', detail: failureMessage(error), latencyMs: 0, at: new Date().toISOString() }];
          }),
        ),
      );
      live.forEach(({ target, deployment }, i) => {
        const taken = rounds[i] ?? [];
        samples[target.name] = [...(samples[target.name] ?? []), ...taken];
        deployment.lastSamples = [...deployment.lastSamples, ...taken].slice(-RECENT_SAMPLES * Math.max(1, taken.length));
      });
      const evaluation = evaluateHealth(samples, failureThreshold);
      if (evaluation.verdict === 'failing') return `health failed in wave ${waveNumber}: ${evaluation.reason}`;
      const abortNow = hooks.aborted();
      if (abortNow) return `aborted by ${abortNow.by}: ${abortNow.reason}`;
      if (elapsed >= windowSeconds && !state.paused) break;
      await condition(() => hooks.aborted() !== undefined, `${intervalSeconds} seconds`, {
        summary: `next health round of wave ${waveNumber}`,
      });
      elapsed += intervalSeconds;
    }
  }
  return undefined;
}

/**
 * Compensation: reverts every target a deployment was attempted on, newest first, in a non-cancellable scope.
 * Each revert is idempotent (already reverted, or never pushed, is a no-op) and one failing target does not stop
 * the others.
 */
async function rollBack(
  spec: PatchSpec,
  state: PatchState,
  reason: string,
  transition: (to: PatchStatus, reason: string | null) => Promise<void>,
): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    await transition('rolling_back', reason);
    const failures: string[] = [];
    for (const deployment of [...state.deployments].reverse()) {
      const target = spec.targets.find((t) => t.id === deployment.targetId);
      if (!target) continue;
      deployment.status = 'reverting';
      await bookkeeping.recordDeployment({ patchId: spec.id, targetId: target.id, wave: deployment.wave, status: 'reverting' });
      try {
        const result = await reverting.revertTarget.executeWithOptions(
          { ...REVERT_OPTIONS, summary: `revert ${target.name} (wave ${deployment.wave})` },
          [{ patchId: spec.id, target, wave: deployment.wave }],
        );
        deployment.status = result.status === 'reverted' ? 'reverted' : 'skipped';
        deployment.revertCommit = result.revertCommit;
      } catch (error) {
        const message = failureMessage(error);
        failures.push(`${target.name}: ${message}`);
        Object.assign(deployment, { status: 'revert_failed', error: message });
        await bookkeeping.recordDeployment({ patchId: spec.id, targetId: target.id, wave: deployment.wave, status: 'revert_failed', error: message });
      }
    }
    if (failures.length > 0) {
      await transition('failed', `${reason}; rollback incomplete, revert failed on ${failures.join('; ')}`);
    } else {
      await transition('rolled_back', reason);
    }
  });
}

