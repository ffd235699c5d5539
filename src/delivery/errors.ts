/**
 * Why a pull-request delivery or its undoing cannot finish. None is retryable: a retry would wait for the same
 * checks or meet the same refusal, so the lifecycle decides instead (it rolls back). The activity adapter turns
 * them into non-retryable failures typed by the class name.
 */
export class DeliveryError extends Error {
  override readonly name: string = 'DeliveryError';
  readonly retryable = false;
}

/** A required check failed on the pull request's head commit (and had not failed before the patch). */
export class ChecksFailedError extends DeliveryError {
  override readonly name: string = 'ChecksFailedError';
}

/** The required checks were still pending when the delivery's time limit passed. */
export class ChecksTimedOutError extends DeliveryError {
  override readonly name: string = 'ChecksTimedOutError';
}

/** The forge kept refusing the merge until the time limit (branch protection, conflicts). */
export class MergeRefusedError extends DeliveryError {
  override readonly name: string = 'MergeRefusedError';
}

/** The target's forge settings cannot be used: an unknown credential, a repository URL on another server. */
export class DeliveryConfigError extends DeliveryError {
  override readonly name: string = 'DeliveryConfigError';
}

/** Someone pushed to the revert branch: it is not overwritten, and the revert needs a person. */
export class RevertBranchTakenError extends DeliveryError {
  override readonly name: string = 'RevertBranchTakenError';
}
