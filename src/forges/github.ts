/**
 * The Forge interface on GitHub and GitHub Enterprise Server, through Octokit (GitHub's own REST client). The
 * credential authenticates with a token, or as a GitHub App: the App's JWT finds its installation on the repository
 * and gets installation tokens, which @octokit/auth-app caches. Errors become ForgeErrors that say what was being
 * done, with GitHub's own message and never a secret.
 *
 * Octokit retries nothing here (no retry or throttling plugin): the delivery activities run under Temporal, which
 * retries what `ForgeError.retryable` says may work later. Each HTTP request gets a timeout instead.
 */
import { createAppAuth } from '@octokit/auth-app';
import { Octokit, type RestEndpointMethodTypes } from '@octokit/rest';
import { redactSecrets } from '../security/redact';
import { type ForgeCredential } from './credentials';
import {
  type CheckState,
  type CommitCheck,
  type Forge,
  ForgeError,
  type GitCredentials,
  type MergeOutcome,
  type MergeRequest,
  type NewPullRequest,
  type PullRequest,
  type RepositoryName,
} from './forge';

export interface GithubForgeOptions {
  credential: ForgeCredential;
  repository: RepositoryName;
  request?: {
    /** How long one HTTP request to GitHub may take, answer included (default 30 s). */
    timeoutMs?: number;
  };
  /** Octokit's warnings (a deprecated endpoint, a retried 401 right after an installation token was made). */
  onWarning?: (message: string) => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * An installation token with less than this left is replaced before use, so a git push or an activity that starts
 * with it has ten minutes. @octokit/auth-app itself keeps a token for 59 minutes after making it whatever its
 * `expires_at` says (right for GitHub's one-hour tokens, wrong for any shorter).
 */
const INSTALLATION_TOKEN_MINIMUM_LIFETIME_MS = 10 * 60_000;
/** The user name git sends with a token: GitHub takes any with a personal token, and this one with an App's. */
const GIT_TOKEN_USERNAME = 'x-access-token';
/** GitHub's messages are one line; a hostile server's are cut to this. */
const MAX_MESSAGE_LENGTH = 300;

type PullRequestData = RestEndpointMethodTypes['pulls']['get']['response']['data'];

/** Octokit's client, and whether it signs in as a GitHub App (through @octokit/auth-app) rather than with a token. */
interface Connection {
  octokit: Octokit;
  actsAsApp: boolean;
}

/** What @octokit/auth-app answers for an installation token (Octokit types `octokit.auth` as returning unknown). */
function isInstallationToken(value: unknown): value is { token: string; expiresAt: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { token, expiresAt } = value as { token?: unknown; expiresAt?: unknown };
  return typeof token === 'string' && typeof expiresAt === 'string';
}

/** What Octokit throws for an HTTP answer or a failed request (its RequestError), told by shape. */
interface RequestFailure {
  status: number;
  response?: { headers: Record<string, string | number | undefined>; data: unknown };
}

function isRequestFailure(error: unknown): error is Error & RequestFailure {
  return error instanceof Error && typeof (error as Partial<RequestFailure>).status === 'number';
}

/** Whether fetch gave up at the timeout. By name: the DOMException may come from another realm than this Error. */
function isTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TimeoutError';
}

/** GitHub's `message`, with the details of a validation error, on one line. */
function githubWords(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return typeof data === 'string' && data.trim() !== '' ? data : undefined;
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  if (typeof message !== 'string') return undefined;
  const details = (Array.isArray(errors) ? errors : []).map((item: unknown) => {
    if (typeof item === 'string') return item;
    const { message: detail, field, code } = (item ?? {}) as { message?: unknown; field?: unknown; code?: unknown };
    return typeof detail === 'string' ? detail : [field, code].filter((part) => typeof part === 'string').join(' ');
  });
  return details.some((detail) => detail !== '') ? `${message} (${details.filter((detail) => detail !== '').join('; ')})` : message;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_MESSAGE_LENGTH ? `${line.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : line;
}

/**
 * Whether GitHub may take the same request later: server trouble (5xx), a secondary rate limit (429, or 403 with
 * retry-after), or the primary rate limit used up (403 with no requests remaining).
 */
function isRetryableStatus(status: number, headers: Record<string, string | number | undefined>): boolean {
  if (status >= 500 || status === 429) return true;
  return status === 403 && (headers['retry-after'] !== undefined || String(headers['x-ratelimit-remaining']) === '0');
}

/**
 * A path parameter Octokit can send as it is meant: it percent-encodes every character that could leave the
 * segment, but `.` and `..` are segments URL parsing removes (`/repos/o/../x` is `/repos/x`).
 */
function pathSegment(what: string, value: string): string {
  if (value === '' || value === '.' || value === '..') throw new ForgeError(`${what} ${JSON.stringify(value)} cannot be sent to GitHub: it is empty or a dot segment`, false);
  return value;
}

function pullNumber(number: number): number {
  if (!Number.isSafeInteger(number) || number <= 0) throw new ForgeError(`pull request number ${number} is not a positive integer`, false);
  return number;
}

/**
 * Check runs: ended as success, neutral or skipped counts as success (nothing to hold a merge for); ended any other way
 * (failure, cancelled, timed_out, action_required, stale) as failure; not ended (queued, in_progress, waiting,
 * requested, pending) as pending.
 */
function checkRunState(status: string, conclusion: string | null): CheckState {
  if (status !== 'completed' || conclusion === null) return 'pending';
  return conclusion === 'success' || conclusion === 'neutral' || conclusion === 'skipped' ? 'success' : 'failure';
}

/** Commit statuses: `error` is a failure too. */
function statusState(state: string): CheckState {
  if (state === 'success') return 'success';
  return state === 'pending' ? 'pending' : 'failure';
}

class GithubForge implements Forge {
  readonly kind = 'github';
  readonly repository: RepositoryName;
  readonly #credential: ForgeCredential;
  readonly #timeoutMs: number;
  readonly #warn: (message: string) => void;
  /** The secrets error messages are cleaned of, by the name shown instead: the credential's, and installation tokens. */
  readonly #secrets: Record<string, string> = {};
  #installationTokens = 0;
  #connection: Promise<Connection> | undefined;

  constructor(options: GithubForgeOptions) {
    if (options.credential.forge !== 'github') throw new ForgeError(`credential ${options.credential.name} is for ${options.credential.forge}, not GitHub`, false);
    this.#credential = options.credential;
    this.repository = { owner: pathSegment('repository owner', options.repository.owner), name: pathSegment('repository name', options.repository.name) };
    this.#timeoutMs = options.request?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#warn = options.onWarning ?? (() => undefined);
    const auth = options.credential.auth();
    if (auth.kind === 'token') this.#secrets.GITHUB_TOKEN = auth.token;
    else this.#secrets.GITHUB_APP_PRIVATE_KEY = auth.privateKey;
  }

  currentUser(): Promise<string> {
    return this.#call('read the account it acts as', async ({ octokit, actsAsApp }) => {
      if (!actsAsApp) return (await octokit.rest.users.getAuthenticated()).data.login;
      // An App acts as its bot account, `<slug>[bot]`.
      const { data } = await octokit.rest.apps.getAuthenticated();
      if (data?.slug === undefined) throw new ForgeError('GitHub did not say the App’s slug', false);
      return `${data.slug}[bot]`;
    });
  }

  gitCredentials(): Promise<GitCredentials> {
    return this.#call('get a token for git', async ({ octokit }) => {
      const auth = this.#credential.auth();
      if (auth.kind === 'token') return { username: GIT_TOKEN_USERNAME, password: auth.token };
      return { username: GIT_TOKEN_USERNAME, password: await this.#installationToken(octokit) };
    });
  }

  findPullRequest(head: string, base: string): Promise<PullRequest | undefined> {
    return this.#call(`find the pull request from ${head} into ${base}`, async (connection) => {
      const { owner, name } = this.repository;
      // The newest first; GitHub wants the head as `owner:branch`.
      const { data } = await connection.octokit.rest.pulls.list({ owner, repo: name, head: `${owner}:${head}`, base, state: 'all', sort: 'created', direction: 'desc', per_page: 1 });
      const [newest] = data;
      // The list's entries lack merged_by and merged; the pull request itself has them.
      return newest === undefined ? undefined : this.#pullRequest(connection, newest.number);
    });
  }

  getPullRequest(number: number): Promise<PullRequest> {
    return this.#call(`read pull request #${number}`, (connection) => this.#pullRequest(connection, pullNumber(number)));
  }

  createPullRequest(input: NewPullRequest): Promise<PullRequest> {
    return this.#call(`open a pull request from ${input.head} into ${input.base}`, async ({ octokit }) => {
      const { data } = await octokit.rest.pulls.create({ owner: this.repository.owner, repo: this.repository.name, head: input.head, base: input.base, title: input.title, body: input.body });
      return this.#toPullRequest(data, null);
    });
  }

  addLabels(number: number, labels: readonly string[]): Promise<void> {
    return this.#call(`label pull request #${number}`, async ({ octokit }) => {
      // GitHub refuses an empty list, and makes the labels the repository does not have yet itself.
      if (labels.length === 0) return;
      await octokit.rest.issues.addLabels({ owner: this.repository.owner, repo: this.repository.name, issue_number: pullNumber(number), labels: [...labels] });
    });
  }

  approve(number: number, body: string): Promise<void> {
    return this.#call(`approve pull request #${number}`, async ({ octokit }) => {
      await octokit.rest.pulls.createReview({ owner: this.repository.owner, repo: this.repository.name, pull_number: pullNumber(number), event: 'APPROVE', body });
    });
  }

  merge(number: number, request: MergeRequest): Promise<MergeOutcome> {
    return this.#call(`merge pull request #${number}`, async ({ octokit }) => {
      // The rebase method makes no merge commit, so it takes no title or message.
      const commit = request.method === 'rebase' ? {} : { commit_title: request.title, commit_message: request.message };
      try {
        const { data } = await octokit.rest.pulls.merge({ owner: this.repository.owner, repo: this.repository.name, pull_number: pullNumber(number), merge_method: request.method, sha: request.headSha, ...commit });
        return data.merged ? { merged: true, mergeCommitSha: data.sha } : { merged: false, reason: this.#clean(data.message) };
      } catch (error) {
        // 405: not mergeable now (required checks, reviews, conflicts, closed); 409: the head moved.
        if (isRequestFailure(error) && (error.status === 405 || error.status === 409)) return { merged: false, reason: this.#clean(githubWords(error.response?.data) ?? error.message) };
        throw error;
      }
    });
  }

  comment(number: number, body: string): Promise<void> {
    return this.#call(`comment on pull request #${number}`, async ({ octokit }) => {
      await octokit.rest.issues.createComment({ owner: this.repository.owner, repo: this.repository.name, issue_number: pullNumber(number), body });
    });
  }

  close(number: number, comment?: string): Promise<void> {
    return this.#call(`close pull request #${number}`, async ({ octokit }) => {
      const { owner, name } = this.repository;
      if (comment !== undefined) await octokit.rest.issues.createComment({ owner, repo: name, issue_number: pullNumber(number), body: comment });
      await octokit.rest.pulls.update({ owner, repo: name, pull_number: pullNumber(number), state: 'closed' });
    });
  }

  commitChecks(sha: string): Promise<CommitCheck[]> {
    return this.#call(`read the checks of commit ${sha}`, async ({ octokit }) => {
      const { owner, name } = this.repository;
      const ref = pathSegment('commit', sha);
      const statuses = await octokit.paginate(octokit.rest.repos.listCommitStatusesForRef, { owner, repo: name, ref, per_page: 100 });
      const runs = await octokit.paginate(octokit.rest.checks.listForRef, { owner, repo: name, ref, filter: 'latest', per_page: 100 });
      const checks: CommitCheck[] = [];
      // Statuses come newest first: the first of each context is its current state.
      const contexts = new Set<string>();
      for (const status of statuses) {
        if (contexts.has(status.context)) continue;
        contexts.add(status.context);
        checks.push({ name: status.context, state: statusState(status.state), source: 'status', description: oneLine(status.description ?? status.state), url: status.target_url });
      }
      // `filter: latest` already gives each name's newest run per check suite; of runs that share a name across
      // suites (two Apps, or a re-run suite) the one GitHub made last, the highest id, counts.
      const newestRuns = new Map<string, (typeof runs)[number]>();
      for (const run of runs) {
        const seen = newestRuns.get(run.name);
        if (seen === undefined || run.id > seen.id) newestRuns.set(run.name, run);
      }
      for (const run of newestRuns.values()) {
        const words = [run.conclusion ?? run.status, run.output.title].filter((part): part is string => typeof part === 'string' && part !== '');
        checks.push({ name: run.name, state: checkRunState(run.status, run.conclusion), source: 'check-run', description: oneLine(words.join(': ')), url: run.html_url ?? run.details_url });
      }
      return checks;
    });
  }

  requiredChecks(branch: string): Promise<string[] | undefined> {
    return this.#call(`read the branch protection of ${branch}`, async ({ octokit }) => {
      try {
        const { data } = await octokit.rest.repos.getBranchProtection({ owner: this.repository.owner, repo: this.repository.name, branch: pathSegment('branch', branch) });
        const required = data.required_status_checks;
        if (required === undefined) return [];
        // GitHub lists required checks as plain contexts and as {context, app_id}; either may hold a name.
        return [...new Set([...(required.contexts ?? []), ...(required.checks ?? []).map((check) => check.context)])];
      } catch (error) {
        if (!isRequestFailure(error)) throw error;
        // GitHub answers 404 Not Found, not 403, to accounts without admin rights; 'Branch not protected' is the one 404 that means none.
        if (error.status === 404) return githubWords(error.response?.data) === 'Branch not protected' ? [] : undefined;
        if (error.status === 403 && !isRetryableStatus(403, error.response?.headers ?? {})) return undefined;
        throw error;
      }
    });
  }

  commitParents(sha: string): Promise<string[]> {
    return this.#call(`read commit ${sha}`, async ({ octokit }) => {
      const { data } = await octokit.rest.git.getCommit({ owner: this.repository.owner, repo: this.repository.name, commit_sha: pathSegment('commit', sha) });
      return data.parents.map((parent) => parent.sha);
    });
  }

  async #pullRequest({ octokit }: Connection, number: number): Promise<PullRequest> {
    const { owner, name } = this.repository;
    const { data } = await octokit.rest.pulls.get({ owner, repo: name, pull_number: number });
    if (data.merged) return this.#toPullRequest(data, data.merged_by?.login ?? null);
    if (data.state !== 'closed') return this.#toPullRequest(data, null);
    // A pull request closed without merging does not say by whom; its issue does.
    const issue = await octokit.rest.issues.get({ owner, repo: name, issue_number: number });
    return this.#toPullRequest(data, issue.data.closed_by?.login ?? null);
  }

  #toPullRequest(data: PullRequestData, closedBy: string | null): PullRequest {
    return {
      number: data.number,
      url: data.html_url,
      state: data.merged ? 'merged' : data.state === 'closed' ? 'closed' : 'open',
      title: data.title,
      author: data.user.login,
      headBranch: data.head.ref,
      headSha: data.head.sha,
      baseBranch: data.base.ref,
      // While open, GitHub's merge_commit_sha is a test merge, not a commit on the base branch.
      mergeCommitSha: data.merged ? data.merge_commit_sha : null,
      closedBy,
      labels: data.labels.flatMap((label) => (label.name === undefined ? [] : [label.name])),
    };
  }

  /** Runs `work` with the client, turning what it throws into a ForgeError that says `operation` failed. */
  async #call<T>(operation: string, work: (connection: Connection) => Promise<T>): Promise<T> {
    try {
      return await work(await this.#connect());
    } catch (error) {
      throw this.#forgeError(operation, error);
    }
  }

  /** The client, made once; an App first looks up its installation on the repository when the credential names none. */
  async #connect(): Promise<Connection> {
    this.#connection ??= this.#newConnection().catch((error: unknown) => {
      // Not kept: the next call looks the installation up again.
      this.#connection = undefined;
      throw error;
    });
    const connection = await this.#connection;
    if (connection.actsAsApp) await this.#installationToken(connection.octokit);
    return connection;
  }

  async #newConnection(): Promise<Connection> {
    const auth = this.#credential.auth();
    if (auth.kind === 'token') return { octokit: this.#octokit({ auth: auth.token }), actsAsApp: false };
    let installationId = auth.installationId;
    if (installationId === undefined) {
      const { octokit } = this.#appConnection(auth.appId, auth.privateKey, undefined);
      try {
        installationId = (await octokit.rest.apps.getRepoInstallation({ owner: this.repository.owner, repo: this.repository.name })).data.id;
      } catch (error) {
        if (isRequestFailure(error) && error.status === 404) throw new ForgeError(`GitHub App ${auth.appId} is not installed on the repository (404 Not Found)`, false, 404);
        throw error;
      }
    }
    return this.#appConnection(auth.appId, auth.privateKey, installationId);
  }

  /** Octokit signing in as the App: its JWT for the App's own endpoints, an installation token for the rest. */
  #appConnection(appId: string, privateKey: string, installationId: number | undefined): Connection {
    const auth = { appId, privateKey, ...(installationId === undefined ? {} : { installationId }) };
    return { octokit: this.#octokit({ authStrategy: createAppAuth, auth }), actsAsApp: true };
  }

  #octokit(authentication: Pick<NonNullable<ConstructorParameters<typeof Octokit>[0]>, 'auth' | 'authStrategy'>): Octokit {
    const timeoutMs = this.#timeoutMs;
    const ignore = () => undefined;
    return new Octokit({
      ...authentication,
      baseUrl: this.#credential.baseUrl,
      userAgent: 'workflow-patch-agent',
      // Failures come back as ForgeErrors; only warnings are worth a log line of their own.
      log: { debug: ignore, info: ignore, warn: this.#warn, error: ignore },
      request: {
        fetch: (input: string | URL | Request, init?: RequestInit) => {
          const timeout = AbortSignal.timeout(timeoutMs);
          return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
        },
      },
    });
  }

  /** The installation token, replaced first when it has less than the minimum lifetime left. */
  async #installationToken(octokit: Octokit): Promise<string> {
    let authentication = await octokit.auth({ type: 'installation' });
    if (isInstallationToken(authentication) && Date.parse(authentication.expiresAt) - Date.now() < INSTALLATION_TOKEN_MINIMUM_LIFETIME_MS) {
      authentication = await octokit.auth({ type: 'installation', refresh: true });
    }
    if (!isInstallationToken(authentication)) throw new ForgeError('@octokit/auth-app gave no installation token', false);
    if (!Object.values(this.#secrets).includes(authentication.token)) this.#secrets[`GITHUB_INSTALLATION_TOKEN_${++this.#installationTokens}`] = authentication.token;
    return authentication.token;
  }

  /** Secrets out first: a private key is several lines, which oneLine would join. */
  #clean(text: string): string {
    return oneLine(redactSecrets(text, this.#secrets));
  }

  #forgeError(operation: string, error: unknown): ForgeError {
    const where = `${this.repository.owner}/${this.repository.name}`;
    if (error instanceof ForgeError) return new ForgeError(this.#clean(`GitHub: could not ${operation} in ${where}: ${error.message}`), error.retryable, error.status, { cause: error });
    if (!isRequestFailure(error)) return new ForgeError(this.#clean(`GitHub: could not ${operation} in ${where}: ${error instanceof Error ? error.message : String(error)}`), false);
    if (error.response !== undefined) {
      const words = githubWords(error.response.data) ?? error.message;
      return new ForgeError(this.#clean(`GitHub: could not ${operation} in ${where}: ${error.status} ${words}`), isRetryableStatus(error.status, error.response.headers), error.status);
    }
    // No answer: the connection failed or the timeout passed (Octokit says status 500 for both).
    const reason = isTimeout(error.cause) ? `no answer within ${this.#timeoutMs} ms` : `no answer (${error.message})`;
    return new ForgeError(this.#clean(`GitHub: could not ${operation} in ${where}: ${reason} from ${this.#credential.baseUrl}`), true);
  }
}

/** The Forge of one GitHub (or GitHub Enterprise Server) repository, acting with `credential`. */
export function createGithubForge(options: GithubForgeOptions): Forge {
  return new GithubForge(options);
}
