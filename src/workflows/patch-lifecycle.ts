/**
 * One patch from creation to a terminal state: test on every target, wait for Guardian approval, deploy in waves
 * with a timed health loop after each, and roll back by compensation when health fails, a Guardian aborts, the
 * run is cancelled or anything unexpected happens once something was deployed (saga semantics). Deterministic:
 * all I/O happens in activities, which are idempotent so that retries and worker crashes never apply a patch twice.
 *
 * Durable whatever fails: decisions never wait on the read model (bookkeeping runs beside them); an approval
 * counts only once it is recorded; a long rollout hands over to a new run (continue-as-new) carrying only its
 * position, so its history stays bounded; inputs carry the diff's hash, not the diff.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  ContinueAsNew,
  isCancellation,
  makeContinueAsNewFunc,
  patched,
  setHandler,
} from '@temporalio/workflow';
import { type ApprovalRecord, type PatchSpec, type PatchState, type StageVerdict, type Target, TEST_STAGES, type TestStage, TREE_STAGES } from '../domain/types';
import { countedApprovals } from './approval-quorum';
import { approvalRecording, failureMessage, TESTING, testing } from './lifecycle-activities';
import { LIFECYCLE_V3, type LifecycleCheckpoint, type PatchLifecycleInput, LifecycleRun, type RolloutPosition } from './lifecycle-run';
import { compensate } from './compensation';
import { patchLifecycleV1 } from './patch-lifecycle-v1';
import {
  type ApproveInput,
  abortSignal,
  approveUpdate,
  type PauseInput,
  patchStatusQuery,
  pauseUpdate,
  type RejectInput,
  rejectUpdate,
  type ResumeInput,
  resumeUpdate,
} from './patch-messages';
import { rollOut, START_OF_ROLLOUT } from './rollout';

export * from './patch-messages';
export type { LifecycleCheckpoint, PatchLifecycleInput } from './lifecycle-run';

/** The marker of runs with this version's command sequence; runs without it replay patch-lifecycle-v1.ts. */
export const LIFECYCLE_V2 = 'lifecycle-v2';
/** The marker of runs that test with the workflow-run stage after the tree stages; runs without it stop at those. */
export const WORKFLOW_RUN_STAGE_PATCH = 'workflow-run-stage';
/**
 * The marker of runs that test the four tree stages of every target at once (the activities of one target share
 * what they read), then the workflow-run stage; runs without it test stage after stage.
 */
export const TREE_STAGES_AT_ONCE_PATCH = 'tree-stages-at-once';
/**
 * The marker of runs whose test stages yield to the rest of the lifecycle's activities on the task queue: with a
 * fleet's tests backlogged, an approval, a read-model write, a deploy, a health check or a revert is dispatched
 * first (Temporal task-queue priority; a server without it dispatches in order). Runs without it test at the default.
 */
export const TESTS_YIELD_PATCH = 'tests-yield';
/**
 * The marker of runs that test each target with one activity per round (its tree stages share one preparation,
 * in one activity), the workflow-run stage of a target that switched it off with its tree stages; runs without it
 * schedule one activity per stage and target.
 */
export const TESTS_PER_TARGET_PATCH = 'tests-per-target';
/** Below the default priority (3 of 1-5, lower goes first), so every other activity of a lifecycle passes the tests. */
const TEST_PRIORITY = { priorityKey: 4 };

export async function patchLifecycleWorkflow(input: PatchLifecycleInput, checkpoint?: LifecycleCheckpoint): Promise<PatchState> {
  const current = patched(LIFECYCLE_V3);
  if (!current && checkpoint === undefined && !patched(LIFECYCLE_V2)) return patchLifecycleV1(input as PatchSpec);
  return runLifecycle(new LifecycleRun(input, checkpoint, current), checkpoint?.rollout);
}

/** Registers the query, the Guardian Updates and the abort Signal (before the first await). */
function handleMessages(run: LifecycleRun): void {
  const { state, input } = run;
  /** Guardians whose decision is being recorded: a second request of theirs is refused until it is stored. */
  const deciding = new Set<string>();
  setHandler(patchStatusQuery, () => state, { description: 'The full state: tests, approvals, waves, deployments.' });

  const assertAwaitingDecision = (guardian: string): void => {
    if (state.status !== 'awaiting_approval') throw new Error(`the patch is ${state.status}, not awaiting approval`);
    if (guardian === input.author) throw new Error('the author of a patch cannot approve or reject it');
    if (state.approvals.some((approval) => approval.guardian === guardian) || deciding.has(guardian)) {
      throw new Error(`${guardian} has already decided on this patch`);
    }
  };
  // A decision counts only once it is recorded: should the write fail, the Update fails and nothing counts.
  const decide = async (approval: ApprovalRecord): Promise<PatchState> => {
    deciding.add(approval.guardian);
    try {
      await approvalRecording.recordApproval({ patchId: input.id, approval });
    } finally {
      deciding.delete(approval.guardian);
    }
    if (state.status === 'awaiting_approval') state.approvals.push(approval);
    return state;
  };
  setHandler(approveUpdate, ({ guardian, comment, groups }) => decide({ guardian, decision: 'approved', comment, at: new Date().toISOString(), ...(groups ? { groups } : {}) }), {
    validator: ({ guardian }: ApproveInput) => assertAwaitingDecision(guardian),
    description: 'A Guardian approves the rollout.',
  });
  setHandler(rejectUpdate, ({ guardian, reason }) => decide({ guardian, decision: 'rejected', comment: reason, at: new Date().toISOString() }), {
    validator: ({ guardian }: RejectInput) => assertAwaitingDecision(guardian),
    description: 'A Guardian rejects the patch.',
  });
  setHandler(
    pauseUpdate,
    ({ by, reason }) => {
      state.paused = true;
      run.transition('paused', reason ? `paused by ${by}: ${reason}` : `paused by ${by}`);
      return state;
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
      run.transition('deploying', `resumed by ${by}`);
      return state;
    },
    {
      validator: (_input: ResumeInput) => {
        if (state.status !== 'paused') throw new Error(`only a paused patch can be resumed; this one is ${state.status}`);
      },
      description: 'Continue a paused rollout.',
    },
  );
  setHandler(abortSignal, (abort) => run.requestAbort(abort), { description: 'Stop and roll back everything deployed.' });
}

/** A round's stages on one target: what one activity tests (per target) or one activity each (per stage). */
interface TargetRound {
  target: Target;
  stages: readonly TestStage[];
}

/** The rounds of the versions that schedule one activity per stage: every stage of a round on every target. */
function stageRounds(run: LifecycleRun, targets: readonly Target[]): TargetRound[][] {
  const rounds = run.patched(TREE_STAGES_AT_ONCE_PATCH) ? [TREE_STAGES, ['workflow-run'] as const] : (run.patched(WORKFLOW_RUN_STAGE_PATCH) ? TEST_STAGES : TREE_STAGES).map((stage) => [stage]);
  return rounds.map((stages) => targets.map((target) => ({ target, stages })));
}

/**
 * The tree stages of every target, then the workflow-run stage of those that run it (a switched-off one is only
 * reported as skipped, so it goes with the tree stages); an empty round is left out.
 */
function targetRounds(targets: readonly Target[]): TargetRound[][] {
  const runsWorkflows = (target: Target): boolean => target.workflowRun !== false;
  const rounds = [
    targets.map((target) => ({ target, stages: runsWorkflows(target) ? TREE_STAGES : TEST_STAGES })),
    targets.filter(runsWorkflows).map((target) => ({ target, stages: ['workflow-run'] as const })),
  ];
  return rounds.filter((round) => round.length > 0);
}

/** The activities testing a round's stages on one target (one for them all, or one each), named for failure reasons. */
function testTargetRound(run: LifecycleRun, { target, stages }: TargetRound, perTarget: boolean, options: typeof TESTING): Array<{ name: string; verdicts: Promise<StageVerdict[]> }> {
  const source = { patchId: run.input.id, target, ...run.diffSource };
  if (perTarget) {
    const summary = `${stages.join(', ')} tests on ${target.name}`;
    return [{ name: summary, verdicts: testing.testTargetStages.executeWithOptions({ ...options, summary }, [{ ...source, stages }]) }];
  }
  return stages.map((stage) => ({
    name: `${stage} stage`,
    verdicts: testing.testTarget.executeWithOptions({ ...options, summary: `${stage} test on ${target.name}` }, [{ ...source, stage }]).then((verdict) => [verdict]),
  }));
}

/**
 * Tests every stage on every target; false when the patch ended (failed, or aborted meanwhile). A failing round
 * names its first failing stage in stage order; every verdict of the round is kept.
 */
async function testEveryTarget(run: LifecycleRun): Promise<boolean> {
  const { input } = run;
  run.transition('testing', null);
  const options = run.patched(TESTS_YIELD_PATCH) ? { ...TESTING, priority: TEST_PRIORITY } : TESTING;
  const perTarget = run.patched(TESTS_PER_TARGET_PATCH);
  for (const round of perTarget ? targetRounds(input.targets) : stageRounds(run, input.targets)) {
    const roundStages = TEST_STAGES.filter((stage) => round.some((entry) => entry.stages.includes(stage)));
    run.showStep(`testing: ${roundStages.join(', ')} on ${round.length} target(s)`);
    let unrunnable: string | undefined;
    let verdicts: StageVerdict[];
    try {
      const perActivity = round.flatMap((entry) =>
        testTargetRound(run, entry, perTarget, options).map(({ name, verdicts: tested }) =>
          tested.catch((error: unknown) => {
            unrunnable ??= name;
            throw error;
          }),
        ),
      );
      verdicts = (await Promise.all(perActivity)).flat();
    } catch (error) {
      if (isCancellation(error)) throw error;
      run.transition('test_failed', `the ${unrunnable ?? `${roundStages[0]} stage`} could not run: ${failureMessage(error)}`);
      return false;
    }
    const inStageOrder = roundStages.flatMap((stage) => verdicts.filter((verdict) => verdict.stage === stage));
    run.state.tests.push(...inStageOrder);
    const [firstFailure] = inStageOrder.filter((verdict) => !verdict.passed);
    if (firstFailure) {
      const failedStage = firstFailure.stage;
      const names = inStageOrder
        .filter((verdict) => verdict.stage === failedStage && !verdict.passed)
        .map((verdict) => run.target(verdict.targetId)?.name ?? verdict.targetId)
        .join(', ');
      run.transition('test_failed', `${failedStage} stage failed on ${names}: ${firstFailure.summary}`);
      return false;
    }
    const abort = run.aborted();
    if (abort) {
      run.transition('cancelled', `aborted by ${abort.by} during testing: ${abort.reason}`);
      return false;
    }
  }
  return true;
}

/**
 * Waits for a quorum of distinct Guardians other than the author (from distinct groups when the spec says so);
 * false when the patch ended instead. Counting only reads the state, so it adds no command.
 */
async function awaitApproval(run: LifecycleRun): Promise<boolean> {
  const { quorum, timeoutSeconds, distinctGroups = false } = run.input.approval;
  run.transition('awaiting_approval', `needs ${quorum} approval(s)${distinctGroups ? ' from Guardians of distinct groups' : ''} within ${timeoutSeconds} s`);
  const quorate = (): boolean => countedApprovals(run.state.approvals, distinctGroups) >= quorum;
  const decided = await condition(() => quorate() || run.rejection() !== undefined || run.aborted() !== null, `${timeoutSeconds} seconds`, {
    summary: 'waiting for Guardian approval',
  });
  const abort = run.aborted();
  const rejected = run.rejection();
  if (abort) run.transition('cancelled', `aborted by ${abort.by} before deployment: ${abort.reason}`);
  else if (rejected) run.transition('rejected', `rejected by ${rejected.guardian}: ${rejected.comment ?? ''}`);
  else if (!decided) run.transition('expired', `no quorum of ${quorum} within ${timeoutSeconds} s`);
  else return true;
  return false;
}

/** Lets every handler and every bookkeeping write finish, then returns the final state. */
async function finish(run: LifecycleRun): Promise<PatchState> {
  await run.settle();
  await condition(allHandlersFinished);
  return run.state;
}

async function runLifecycle(run: LifecycleRun, resumeAt: RolloutPosition | undefined): Promise<PatchState> {
  handleMessages(run);
  try {
    if (resumeAt === undefined) {
      if (!(await testEveryTarget(run)) || !(await awaitApproval(run))) return await finish(run);
      run.transition('deploying', `approved by ${run.approvers().join(', ')}`);
    }
    const outcome = await rollOut(run, resumeAt ?? START_OF_ROLLOUT);
    if (outcome.kind === 'hand-over') {
      // Continue as a new run with a fresh history, carrying the position; nothing pending may be lost.
      await finish(run);
      run.state.handOvers = (run.state.handOvers ?? 0) + 1;
      const handOver = makeContinueAsNewFunc<typeof patchLifecycleWorkflow>({ typedSearchAttributes: run.searchAttributes() });
      return await handOver(run.input, run.checkpoint(outcome.position));
    }
    if (outcome.kind === 'deployed') run.transition('deployed', `deployed to ${run.input.targets.length} target(s)`);
    else await compensate(run, outcome.reason);
    return await finish(run);
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    // A patch that already ended stays as it is: a cancel after the end changes nothing.
    if (run.isTerminal()) return await CancellationScope.nonCancellable(() => finish(run));
    // Whatever else ended the run, what was deployed is undone.
    await CancellationScope.nonCancellable(async () => {
      const reason = isCancellation(error) ? 'the workflow run was cancelled' : `the lifecycle failed unexpectedly: ${failureMessage(error)}`;
      if (run.state.deployments.length > 0) await compensate(run, reason);
      else run.transition(isCancellation(error) ? 'cancelled' : 'failed', reason);
      await run.settle();
    });
    if (isCancellation(error)) throw error;
    return await finish(run);
  }
}
