/**
 * Public API of the git domain module. Temporal activities are thin adapters over these functions; every
 * operation is idempotent, works in unique folders inside the caller's workRoot and throws the typed errors
 * below (each says whether a retry can help: `retryable`).
 */
export {
  type ChangedFile,
  type ChangeStatus,
  changedFiles,
  type DiffPathValidation,
  unsafePathReason,
  validateDiffPaths,
} from './diff-paths';
export {
  type BranchProposal,
  DEFAULT_MAX_ATTEMPTS,
  deployPatch,
  type DeployPatchInput,
  type DeployResult,
  proposePatch,
  proposeRevert,
  type PushAttempt,
  revertPatch,
  type RevertPatchInput,
  type RevertResult,
  type SideBranchInput,
} from './deploy';
export { PATCH_ID_TRAILER, REVERTS_PATCH_ID_TRAILER, trailerBlock, type Trailers } from './commit-message';
export {
  CommandStartError,
  type DiffPathProblem,
  GitCommandError,
  GitError,
  GitStateError,
  GitTimeoutError,
  InvalidDiffError,
  InvalidInputError,
  OperationAbortedError,
  PatchDoesNotApplyError,
  PatchRevertedError,
  PushRejectedError,
  RefNotFoundError,
  RevertConflictError,
} from './errors';
export { DEFAULT_IDENTITY, type GitIdentity, type GitOptions } from './git-cli';
export { atCachedBranchTip, type CachedTip, type CachedTreeWithDiff, limitRepoCache } from './repo-cache';
export { isValidBranchName } from './validate';
export {
  applyDiff,
  type Checkout,
  checkDiffApplies,
  checkout,
  detachAt,
  type DiffApplyCheck,
  discardChanges,
  disposeCheckout,
  findCommitsByTrailer,
  removeStaleWorkDirs,
  type TrailerCommit,
  type TrailerSearchOptions,
  treeWithDiff,
} from './repo';
export { type PathFilter, readTreeAndPaths, readTreeObjectsAndPaths, type ReadTreeOptions, type SkipReason, type TreeRead, type TreeSource } from './tree-read';
