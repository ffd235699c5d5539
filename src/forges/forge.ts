/**
 * The one interface the delivery module uses for a forge (Gitea/Forgejo, GitHub and GitHub Enterprise Server):
 * pull requests, labels, reviews, merges, and the CI results reported on a commit. Adapters (gitea.ts, github.ts)
 * translate it to each forge's REST API; they never put a credential in an error message, a log line or a result.
 */

export const FORGE_KINDS = ['gitea', 'github'] as const;
export type ForgeKind = (typeof FORGE_KINDS)[number];

export const MERGE_METHODS = ['merge', 'squash', 'rebase'] as const;
export type MergeMethod = (typeof MERGE_METHODS)[number];

/** `owner/name` on the forge. */
export interface RepositoryName {
  owner: string;
  name: string;
}

export type PullRequestState = 'open' | 'closed' | 'merged';

export interface PullRequest {
  number: number;
  /** The page people open (html URL). */
  url: string;
  state: PullRequestState;
  title: string;
  /** Login of the account that opened it. */
  author: string;
  headBranch: string;
  headSha: string;
  baseBranch: string;
  /** The commit the merge made on the base branch; null until merged. */
  mergeCommitSha: string | null;
  /** Login of whoever merged or closed it, when the forge says. */
  closedBy: string | null;
  labels: string[];
}

export interface NewPullRequest {
  /** Branch in the same repository holding the change. */
  head: string;
  base: string;
  title: string;
  /** Markdown. */
  body: string;
}

/** `pending` covers queued, in progress and expected-but-not-reported. */
export type CheckState = 'success' | 'pending' | 'failure';

/** One CI result on a commit: a commit status (by context) or, on GitHub, a check run (by name). */
export interface CommitCheck {
  name: string;
  state: CheckState;
  source: 'status' | 'check-run';
  /** The forge's own words (status description, check conclusion), one line. */
  description: string;
  /** Where the CI shows it, when given. */
  url: string | null;
}

export interface MergeRequest {
  method: MergeMethod;
  /** Merge or squash commit title and message; ignored by the rebase method. */
  title: string;
  message: string;
  /** The head commit the merge must be of: the forge refuses when the pull request's head moved. */
  headSha: string;
}

export type MergeOutcome =
  | { merged: true; mergeCommitSha: string }
  /** The forge refused now (checks pending, branch protection, head moved, conflict); `reason` is its words. */
  | { merged: false; reason: string };

/** HTTP basic credentials git uses to push over HTTPS to the forge. */
export interface GitCredentials {
  username: string;
  password: string;
}

export interface Forge {
  readonly kind: ForgeKind;
  readonly repository: RepositoryName;
  /** The login the credential acts as. */
  currentUser(): Promise<string>;
  /** Credentials for `git push` to this forge (a token; for a GitHub App, a fresh installation token). */
  gitCredentials(): Promise<GitCredentials>;
  /** The newest pull request from `head` into `base`, in any state; undefined when there is none. */
  findPullRequest(head: string, base: string): Promise<PullRequest | undefined>;
  getPullRequest(number: number): Promise<PullRequest>;
  createPullRequest(input: NewPullRequest): Promise<PullRequest>;
  /** Adds labels, creating those the repository does not have yet (Gitea labels pull requests by label id). */
  addLabels(number: number, labels: readonly string[]): Promise<void>;
  /** An approving review by the credential's account, with `body`. */
  approve(number: number, body: string): Promise<void>;
  merge(number: number, request: MergeRequest): Promise<MergeOutcome>;
  comment(number: number, body: string): Promise<void>;
  /** Closes without merging (after a comment saying why, when given). */
  close(number: number, comment?: string): Promise<void>;
  /** Every commit status (latest per context) and, on GitHub, every check run (latest per name) of a commit. */
  commitChecks(sha: string): Promise<CommitCheck[]>;
  /**
   * The status contexts/check names branch protection requires on `branch`; [] when none are required; undefined
   * when the credential may not read the protection.
   */
  requiredChecks(branch: string): Promise<string[] | undefined>;
  /** A commit's parents, first parent first. */
  commitParents(sha: string): Promise<string[]>;
}

/**
 * A forge answer that is not what was asked for. `retryable`: the same call may work later (network failure, 5xx,
 * rate limit); otherwise it will not (bad credential, no permission, not found, refused input).
 */
export class ForgeError extends Error {
  override readonly name: string = 'ForgeError';

  constructor(
    message: string,
    readonly retryable: boolean,
    /** The HTTP status, when an answer arrived. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
