/**
 * What the git-heavy activities share: heartbeats that carry the current step, and the translation of errors a
 * retry cannot fix into non-retryable failures.
 */
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { DeliveryError } from '../delivery/errors';
import { ForgeError } from '../forges/forge';
import { GitError, OperationAbortedError } from '../git';

/** Heartbeats while an activity works; the SDK throttles them to the workflow's heartbeat timeout. */
const HEARTBEAT_INTERVAL_MS = 5_000;
/**
 * Runs `work` while heartbeating its current step, so a stuck or lost worker is noticed. The first heartbeat waits
 * `firstHeartbeatMs` (WORKER_FIRST_HEARTBEAT_MS): each is a write on the Temporal server, and most activities end
 * sooner, so they add none.
 */
export async function heartbeating<T>(firstHeartbeatMs: number, work: (progress: (step: string) => void) => Promise<T>): Promise<T> {
  let step = 'starting';
  let interval: NodeJS.Timeout | undefined;
  const beat = (): void => {
    heartbeat(step);
    interval = setInterval(() => heartbeat(step), HEARTBEAT_INTERVAL_MS);
  };
  let first: NodeJS.Timeout | undefined;
  if (firstHeartbeatMs === 0) beat();
  else first = setTimeout(beat, firstHeartbeatMs);
  try {
    return await work((next) => {
      step = next;
      if (interval !== undefined) heartbeat(step);
    });
  } finally {
    clearTimeout(first);
    clearInterval(interval);
  }
}

/** Turns git, forge and delivery errors a retry cannot fix into non-retryable failures typed by their class name. */
export async function gitOperation<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // A cancelled activity rethrows as is: the SDK reports the cancellation itself.
    const final = (error instanceof GitError && !(error instanceof OperationAbortedError)) || error instanceof ForgeError || error instanceof DeliveryError;
    if (final && !error.retryable) throw ApplicationFailure.nonRetryable(error.message, error.name);
    throw error;
  }
}
