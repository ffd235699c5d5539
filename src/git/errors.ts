/**
 * One error class per failure kind of the git domain module. Every class says whether repeating the same call
 * can succeed (`retryable`), so a Temporal activity adapter can map it to a non-retryable ApplicationFailure
 * without parsing messages.
 */

/** Base class of every error thrown by src/git. */
export class GitError extends Error {
  override readonly name: string = 'GitError';

  constructor(
    message: string,
    /** True when the same call may succeed later (network, a branch that kept moving, a timeout). */
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A caller-supplied argument is unusable: a URL, branch, patch id, trailer or message. */
export class InvalidInputError extends GitError {
  override readonly name: string = 'InvalidInputError';

  constructor(message: string) {
    super(message, false);
  }
}

/** One reason a unified diff is refused before git sees it. */
export interface DiffPathProblem {
  /** 1-based line of the diff where the offending header is. */
  line: number;
  /** The path as written in the diff (after C-unquoting), or '' when the problem is not about one path. */
  path: string;
  reason: string;
}

/** The diff touches paths outside the work tree, `.git`, symlinks or submodules, or is not a usable diff. */
export class InvalidDiffError extends InvalidInputError {
  override readonly name: string = 'InvalidDiffError';

  constructor(readonly problems: readonly DiffPathProblem[]) {
    super(`invalid diff: ${problems.map((p) => `line ${p.line}${p.path ? ` (${p.path})` : ''}: ${p.reason}`).join('; ')}`);
  }
}

/** A git process failed in a way no more specific class describes. */
export class GitCommandError extends GitError {
  override readonly name: string = 'GitCommandError';

  constructor(
    /** The git arguments, with credentials in URLs redacted. */
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    /** The last part of stderr, credentials redacted. */
    readonly stderrTail: string,
    message?: string,
  ) {
    super(message ?? `git ${argv.join(' ')} failed (exit ${exitCode ?? 'none'}): ${stderrTail.trim()}`, true);
  }
}

/** A git process ran past its time limit; its process group was killed. */
export class GitTimeoutError extends GitCommandError {
  override readonly name: string = 'GitTimeoutError';

  constructor(argv: readonly string[], stderrTail: string, readonly timeoutMs: number) {
    super(argv, null, stderrTail, `git ${argv.join(' ')} timed out after ${timeoutMs} ms`);
  }
}

/** The remote has no such branch or ref (or the repository is empty). `repoUrl` has credentials redacted. */
export class RefNotFoundError extends GitError {
  override readonly name: string = 'RefNotFoundError';

  constructor(readonly repoUrl: string, readonly ref: string) {
    super(`${ref} not found in ${repoUrl}`, false);
  }
}

/** `git apply` refused the diff; `gitMessage` is what git said. */
export class PatchDoesNotApplyError extends GitError {
  override readonly name: string = 'PatchDoesNotApplyError';

  constructor(
    readonly gitMessage: string,
    /** The reverse diff applies cleanly: the change is already present without our trailer. */
    readonly alreadyApplied: boolean,
  ) {
    super(`patch does not apply${alreadyApplied ? ' (its changes are already present)' : ''}: ${gitMessage.trim()}`, false);
  }
}

/**
 * The remote refused the push. `branch-moved` means the branch kept moving for all attempts (retryable);
 * `remote-rejected` means a hook or branch protection declined it (not retryable).
 */
export class PushRejectedError extends GitError {
  override readonly name: string = 'PushRejectedError';

  constructor(
    readonly reason: 'branch-moved' | 'remote-rejected',
    readonly detail: string,
    readonly attempts: number,
  ) {
    super(`push rejected (${reason}) after ${attempts} attempt(s): ${detail}`, reason === 'branch-moved');
  }
}

/** `git revert` of the patch commit conflicts with later changes on the branch. */
export class RevertConflictError extends GitError {
  override readonly name: string = 'RevertConflictError';

  constructor(readonly commitSha: string, readonly conflictedPaths: readonly string[], gitMessage: string) {
    super(`reverting ${commitSha} conflicts in ${conflictedPaths.join(', ') || '(unknown paths)'}: ${gitMessage.trim()}`, false);
  }
}

/** A deploy was asked for a patch id whose commit was already reverted on the branch: it needs a new patch id. */
export class PatchRevertedError extends GitError {
  override readonly name: string = 'PatchRevertedError';

  /** `revertedBy`: the revert commit, or what else gave the patch up (a revert that found nothing to undo). */
  constructor(readonly patchId: string, readonly revertedBy: string) {
    super(`patch ${patchId} was reverted by ${revertedBy}; deploy it again under a new patch id`, false);
  }
}

/** The repository is not in a state the operation can act on safely (e.g. the patch commit is a merge). */
export class GitStateError extends GitError {
  override readonly name: string = 'GitStateError';

  constructor(message: string) {
    super(message, false);
  }
}

/** A program could not be started at all (not installed, not executable, bad working directory). */
export class CommandStartError extends GitError {
  override readonly name: string = 'CommandStartError';

  constructor(readonly program: string, cause: unknown) {
    super(`cannot start ${program}: ${cause instanceof Error ? cause.message : String(cause)}`, false, { cause });
  }
}

/** The caller's AbortSignal fired; the running process group was killed. */
export class OperationAbortedError extends GitError {
  override readonly name: string = 'OperationAbortedError';

  constructor(reason: unknown) {
    super('operation aborted', false, { cause: reason });
  }
}
