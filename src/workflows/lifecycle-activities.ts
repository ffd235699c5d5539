/**
 * The activities of the patch lifecycle with their timeouts and retries: each group is bounded, and only the work
 * (tests, deploys, health rounds, reverts) is something the workflow decides on.
 */
import { ActivityCancellationType, ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { PatchActivities } from '../activities/patches';
import type { Target } from '../domain/types';

/**
 * Read-model and audit writes: retried for up to 15 minutes (a database restart), then reported in the state.
 * The workflow never waits on them to decide; the reconciler repairs what stayed unwritten.
 */
export const bookkeeping = proxyActivities<PatchActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** An approval counts only once it is stored; bounded so the Guardian hears within the API's deadline. */
export const approvalRecording = proxyActivities<PatchActivities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '20 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '5 seconds' },
});

/** Activities heartbeat every 5 s; a worker that died is noticed after this long and its activity retried elsewhere. */
const HEARTBEAT_TIMEOUT = '20 seconds';

export const TESTING = { startToCloseTimeout: '20 minutes', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: { maximumAttempts: 3 } };
export const testing = proxyActivities<PatchActivities>(TESTING);

/**
 * A deploy is cancelled only once it has acknowledged (WAIT_CANCELLATION_COMPLETED): compensation must never run
 * while a push may still land. Transient failures (the database, the network) are retried for up to 30 minutes.
 */
export const DEPLOYING = {
  startToCloseTimeout: '10 minutes',
  scheduleToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['PatchDoesNotApplyError', 'PatchRevertedError', 'InvalidDiffError', 'InvalidInputError', 'RefNotFoundError', 'DiffNotFoundError'],
  },
};
export const deploying = proxyActivities<PatchActivities>(DEPLOYING);

/** Room beyond a pull request's checks wait for pushing, opening and merging it. */
const PULL_REQUEST_MARGIN_SECONDS = 15 * 60;

/** A deploy by pull request waits for the pull request's checks, so its time limits grow with the target's. */
export function deployOptions(target: Target): typeof DEPLOYING {
  if (target.delivery?.mode !== 'pull-request') return DEPLOYING;
  const seconds = target.delivery.checksTimeoutSeconds + PULL_REQUEST_MARGIN_SECONDS;
  return { ...DEPLOYING, startToCloseTimeout: `${seconds} seconds`, scheduleToCloseTimeout: `${seconds * 3} seconds` };
}

/** A round that cannot run twice in a row is an error sample, counted against the error limit. */
export const CHECKING = { startToCloseTimeout: '15 minutes', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: { maximumAttempts: 2 } };
export const checking = proxyActivities<PatchActivities>(CHECKING);

/** Compensation tries hard: a half-rolled-back fleet is the worst outcome. */
export const REVERTING = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 10, maximumInterval: '1 minute', nonRetryableErrorTypes: ['RevertConflictError', 'InvalidInputError', 'GitStateError'] },
};
export const reverting = proxyActivities<PatchActivities>(REVERTING);

/** The innermost message of an activity's failure, for reasons people read. */
export function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
