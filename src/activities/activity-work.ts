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

/** Runs `work` while heartbeating its current step, so a stuck or lost worker is noticed. */
export async function heartbeating<T>(work: (progress: (step: string) => void) => Promise<T>): Promise<T> {
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
