/**
 * Progressive deployment: wave after wave, each deployed a few targets at a time and then watched for its window
 * by rounds of health checks. The decision comes from the check results alone (consecutive failures and, apart
 * from them, consecutive errors); storing the samples is bookkeeping. When the history grows long (Temporal
 * suggests continue-as-new, or the run's own budget is reached) the rollout stops where it is and says so, and the
 * lifecycle hands over to a new run carrying the position.
 */
import { condition, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { RecordHealthRoundInput } from '../activities/patch-bookkeeping';
import { DEFAULT_ERROR_THRESHOLD, type Target, type TargetDeployment } from '../domain/types';
import { countRound, type HealthLimits, judgeStreaks } from '../health/streaks';
import type { HealthSample } from '../health/types';
import { bookkeeping, CHECKING, checking, deploying, deployOptions, failureMessage } from './lifecycle-activities';
import type { LifecycleRun, RolloutPosition } from './lifecycle-run';
import { quietUntil } from './quiet-windows';
import { planWaves } from './rollout-plan';

export type RolloutOutcome =
  | { kind: 'deployed' }
  | { kind: 'rollback'; reason: string }
  | { kind: 'hand-over'; position: RolloutPosition };

/** Hand over well before Temporal's limits (50 Ki events), even when the server does not suggest it. */
const HISTORY_EVENT_BUDGET = 10_000;
/** Samples per target kept in the state for people (the read model keeps them all). */
const RECENT_SAMPLES = 5;
/** The label of the sample standing for a round that could not run at all. */
const ACTIVITY_CHECK = 'health check activity';

export const START_OF_ROLLOUT: RolloutPosition = { waveIndex: 0, waveDeployed: false, elapsedSeconds: 0, round: 0, healthRound: 0, streaks: {}, watched: [] };

function historyIsLong(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= HISTORY_EVENT_BUDGET;
}

function isMonitored(target: Target): boolean {
  return target.healthChecks.length > 0 || target.verifyCommand !== null;
}

/** A rollback when a Guardian aborted. */
function abortedRollback(run: LifecycleRun): RolloutOutcome | undefined {
  const abort = run.aborted();
  return abort ? { kind: 'rollback', reason: `aborted by ${abort.by}: ${abort.reason}` } : undefined;
}

/** The marker of runs that hold their deploys during the patch's quiet windows. */
export const QUIET_WINDOWS_PATCH = 'quiet-windows';

/**
 * Waits while the workflow's clock is in one of the patch's quiet windows (an abort ends the wait); returns why
 * the rollout cannot go on when the windows leave no time at all.
 */
async function waitOutQuietWindows(run: LifecycleRun, waveNumber: number): Promise<string | undefined> {
  const windows = run.input.quietWindows ?? [];
  if (windows.length === 0 || !run.patched(QUIET_WINDOWS_PATCH)) return undefined;
  for (let until = quietUntil(Date.now(), windows); until !== undefined && run.aborted() === null; until = quietUntil(Date.now(), windows)) {
    if (until === Number.POSITIVE_INFINITY) return 'the quiet windows cover the whole week, so no wave can ever be deployed';
    const end = new Date(until).toISOString();
    run.showStep(`wave ${waveNumber}: quiet window until ${end}, nothing is deployed before then`);
    await condition(() => run.aborted() !== null, until - Date.now(), { summary: `quiet window until ${end}` });
  }
  return undefined;
}

/**
 * The marker of runs that leave a deploy's outcome to the row its activity stored (the workflow records it only
 * when the activity could not); runs without it record every outcome again.
 */
export const DEPLOY_RECORDS_ITS_ROW_PATCH = 'deploy-records-its-row';

/** Deploys one wave's targets, `parallelism` at a time; returns why it failed, or undefined. */
async function deployWave(run: LifecycleRun, wave: readonly Target[], waveNumber: number, waveCount: number, position: RolloutPosition): Promise<string | undefined> {
  const { parallelism } = run.input.rollout;
  for (let start = 0; start < wave.length; start += parallelism) {
    const outcomes = await Promise.all(
      wave.slice(start, start + parallelism).map(async (target) => {
        // Registered before the activity starts: a deploy that half-happened is still compensated.
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
        run.state.deployments.push(deployment);
        run.updateDeployment(deployment, {});
        try {
          const result = await deploying.deployTarget.executeWithOptions(
            { ...deployOptions(target), summary: `deploy ${target.name} (wave ${waveNumber} of ${waveCount})` },
            [{ patchId: run.input.id, title: run.input.title, target, wave: waveNumber, approvedBy: run.approvers(), seq: run.nextDeploymentSeq(), ...run.diffSource }],
          );
          const pullRequest = result.pullRequest ? { pullRequest: result.pullRequest } : {};
          // A person who closed the pull request or took its branch over declined: their choice stands, the rollout goes on.
          const change: Partial<TargetDeployment> =
            result.declined !== undefined
              ? { status: 'declined', error: result.declined, ...pullRequest }
              : { status: 'deployed', deployedCommit: result.commitSha, previousCommit: result.previousCommit, ...pullRequest };
          // The activity stored the row (and its audit event) with the seq it was given: the same write again is none.
          if (result.recorded === true && run.patched(DEPLOY_RECORDS_ITS_ROW_PATCH)) run.noteDeployment(deployment, change);
          else run.updateDeployment(deployment, change);
          if (result.declined !== undefined) return undefined;
          if (isMonitored(target)) position.watched.push(target.id);
          return undefined;
        } catch (error) {
          if (isCancellation(error)) throw error;
          const message = failureMessage(error);
          run.updateDeployment(deployment, { status: 'failed', error: message });
          return `deploying to ${target.name} failed: ${message}`;
        }
      }),
    );
    const failure = outcomes.find((outcome) => outcome !== undefined);
    if (failure) return failure;
  }
  return undefined;
}

/** The marker of runs whose health round ends as soon as a result crosses a limit and is recorded with one write. */
export const HEALTH_ROUND_BATCH_PATCH = 'health-round-batch';

interface RoundResult {
  target: Target;
  samples: HealthSample[];
}

/** One round of one watched target's checks; a round that could not run at all is one error sample. */
async function checkTarget(run: LifecycleRun, position: RolloutPosition, waveNumber: number, target: Target): Promise<RoundResult> {
  const deployment = run.state.deployments.find((candidate) => candidate.targetId === target.id);
  const commit = deployment?.deployedCommit ?? '';
  const samples = await checking.checkTargetHealth
    .executeWithOptions(
      { ...CHECKING, summary: `health of ${target.name} (wave ${waveNumber}, round ${position.round})` },
      [{ patchId: run.input.id, target, wave: waveNumber, commit, round: position.healthRound, record: false }],
    )
    .catch((error: unknown): HealthSample[] => {
      if (isCancellation(error)) throw error;
      return [{ ok: false, error: true, checkType: 'command', check: ACTIVITY_CHECK, detail: failureMessage(error), latencyMs: 0, at: new Date().toISOString() }];
    });
  return { target, samples };
}

function watchedTargets(run: LifecycleRun, position: RolloutPosition): Target[] {
  return position.watched.flatMap((id) => run.target(id) ?? []);
}

/**
 * One round of every watched target's checks, results in arrival order, ending early when `decides` says a result
 * settles the round (later results are not waited for).
 */
function healthRoundUntil(run: LifecycleRun, position: RolloutPosition, waveNumber: number, decides: (result: RoundResult) => boolean): Promise<RoundResult[]> {
  const watched = watchedTargets(run, position);
  if (watched.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const arrived: RoundResult[] = [];
    let settled = false;
    for (const target of watched) {
      checkTarget(run, position, waveNumber, target).then(
        (result) => {
          if (settled) return;
          arrived.push(result);
          if (decides(result) || arrived.length === watched.length) {
            settled = true;
            resolve(arrived);
          }
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    }
  });
}

/** Counts a target's round into the streaks and its recent samples; returns the round's read-model record. */
function countResult(run: LifecycleRun, position: RolloutPosition, waveNumber: number, { target, samples }: RoundResult): RecordHealthRoundInput {
  position.streaks = countRound(position.streaks, target.name, samples);
  const deployment = run.state.deployments.find((candidate) => candidate.targetId === target.id);
  if (deployment) deployment.lastSamples = [...deployment.lastSamples, ...samples].slice(-RECENT_SAMPLES * Math.max(1, samples.length));
  return { patchId: run.input.id, target: { id: target.id, name: target.name }, wave: waveNumber, round: position.healthRound, commit: deployment?.deployedCommit ?? '', samples };
}

/**
 * One health round, counted into the streaks and recorded. With HEALTH_ROUND_BATCH_PATCH the round ends at the
 * first target whose streaks cross a limit and its samples are recorded with one write; before it, the round
 * waited for every target and recorded each with a write of its own (in watched order).
 */
async function runHealthRound(run: LifecycleRun, position: RolloutPosition, waveNumber: number, limits: HealthLimits): Promise<void> {
  if (run.patched(HEALTH_ROUND_BATCH_PATCH)) {
    const records: RecordHealthRoundInput[] = [];
    await healthRoundUntil(run, position, waveNumber, (result) => {
      records.push(countResult(run, position, waveNumber, result));
      return judgeStreaks({ [result.target.name]: position.streaks[result.target.name] ?? {} }, limits).failing;
    });
    if (records.length > 0) run.record(`health round ${position.healthRound} of wave ${waveNumber}`, () => bookkeeping.recordHealthRounds(records));
    return;
  }
  const results = await Promise.all(watchedTargets(run, position).map((target) => checkTarget(run, position, waveNumber, target)));
  for (const result of results) {
    const record = countResult(run, position, waveNumber, result);
    run.record(`health round ${position.healthRound} of ${result.target.name}`, () => bookkeeping.recordHealthRound(record));
  }
}

/** Deploys and watches the waves from `from` on; see RolloutOutcome. */
export async function rollOut(run: LifecycleRun, from: RolloutPosition): Promise<RolloutOutcome> {
  const waves = planWaves(run.input.targets, run.input.rollout.waves.map((wave) => wave.percent));
  run.state.waves = waves.map((wave) => wave.map((target) => target.id));
  const { intervalSeconds, windowSeconds, failureThreshold } = run.input.rollout.health;
  const limits = { failureThreshold, errorThreshold: run.input.rollout.health.errorThreshold ?? DEFAULT_ERROR_THRESHOLD };
  const position: RolloutPosition = { ...from, watched: [...from.watched] };

  for (; position.waveIndex < waves.length; position.waveIndex += 1) {
    const wave = waves[position.waveIndex] ?? [];
    const waveNumber = position.waveIndex + 1;
    run.state.currentWave = waveNumber;
    const abortedBefore = abortedRollback(run);
    if (abortedBefore) return abortedBefore;

    if (!position.waveDeployed) {
      const neverQuiet = await waitOutQuietWindows(run, waveNumber);
      if (neverQuiet) return { kind: 'rollback', reason: neverQuiet };
      const abortedInQuiet = abortedRollback(run);
      if (abortedInQuiet) return abortedInQuiet;
      run.showStep(`deploying wave ${waveNumber} of ${waves.length} (${wave.length} target(s))`);
      const failure = await deployWave(run, wave, waveNumber, waves.length, position);
      if (failure) return { kind: 'rollback', reason: failure };
      Object.assign(position, { waveDeployed: true, elapsedSeconds: 0, round: 0 });
    }

    // Watch every deployed target for the wave's window; a pause holds here while the checks keep running.
    for (;;) {
      position.round += 1;
      position.healthRound += 1;
      run.showStep(`wave ${waveNumber} of ${waves.length}: health round ${position.round}${run.state.paused ? ' (paused)' : ''}`);
      await runHealthRound(run, position, waveNumber, limits);
      const verdict = judgeStreaks(position.streaks, limits);
      if (verdict.failing) return { kind: 'rollback', reason: `health failed in wave ${waveNumber}: ${verdict.reason}` };
      const abortedNow = abortedRollback(run);
      if (abortedNow) return abortedNow;
      if (position.elapsedSeconds >= windowSeconds && !run.state.paused) break;
      if (historyIsLong()) return { kind: 'hand-over', position };
      await condition(() => run.aborted() !== null, `${intervalSeconds} seconds`, { summary: `next health round of wave ${waveNumber}` });
      position.elapsedSeconds += intervalSeconds;
    }
    position.waveDeployed = false;
  }
  return { kind: 'deployed' };
}
