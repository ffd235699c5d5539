/**
 * A local stand-in for GitHub's REST API, for the GitHub adapter's tests (GitHub itself cannot be reached from our
 * machines). It is a real HTTP server on 127.0.0.1 that keeps repositories in memory (branches and commits, pull
 * requests, labels, reviews, merges that make merge commits, commit statuses, check runs, branch protection) and
 * GitHub Apps with their installations and installation tokens.
 *
 * Every request and every answer is checked against GitHub's published description of the API (github-openapi.ts):
 * a request for a path, method, parameter or body the description does not have, or an answer whose status or body
 * it does not declare, is answered with status 599 instead and recorded in `violations`, which tests expect empty.
 * The operations requests reached are recorded too, for the README's list of paths tried.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { decodeJwt, jwtVerify } from 'jose';
import { type OpenApiDescription, type Route } from './github-openapi';

/** The status of an answer the stand-in refused to give, or of a request it refused to take: not one GitHub sends. */
export const VIOLATION_STATUS = 599;

const DOCUMENTATION_URL = 'https://docs.github.com/rest';
const MAX_BODY_BYTES = 1024 * 1024;
const HOUR_MS = 60 * 60_000;

type JsonObject = { [key: string]: unknown };

export interface Violation {
  /** Method and raw URL of the request. */
  request: string;
  /** `request` when the request did not fit the description, `response` when the stand-in's answer did not. */
  side: 'request' | 'response';
  problems: string[];
}

export interface RecordedRequest {
  method: string;
  /** As it arrived: path and query still percent-encoded. */
  rawUrl: string;
  /** Undefined when the description has no such operation. */
  route: Route | undefined;
  pathParameters: Record<string, string>;
  /** The token or JWT of the Authorization header. */
  credential: string | undefined;
  status: number;
}

export interface Account {
  id: number;
  login: string;
  type: 'User' | 'Bot' | 'Organization';
}

interface Commit {
  sha: string;
  parents: string[];
  message: string;
  tree: string;
  date: string;
}

interface Label {
  id: number;
  name: string;
  color: string;
}

interface PullRecord {
  number: number;
  id: number;
  title: string;
  body: string;
  author: Account;
  headRef: string;
  headSha: string;
  baseRef: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergedBy: Account | null;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  closedBy: Account | null;
  closedAt: string | null;
  labels: Label[];
  createdAt: string;
  updatedAt: string;
}

export type StatusState = 'error' | 'failure' | 'pending' | 'success';

interface StatusRecord {
  id: number;
  context: string;
  state: StatusState;
  description: string | null;
  targetUrl: string | null;
  createdAt: string;
  creator: Account;
}

export type CheckRunStatus = 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';
export type CheckRunConclusion = 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required';

interface CheckRunRecord {
  id: number;
  name: string;
  status: CheckRunStatus;
  conclusion: CheckRunConclusion | null;
  title: string | null;
  startedAt: string;
  completedAt: string | null;
}

interface Protection {
  contexts: string[];
  checks: string[];
}

export interface Comment {
  issueNumber: number;
  body: string;
  author: string;
}

export interface Review {
  pullNumber: number;
  state: string;
  body: string;
  author: string;
  commitId: string;
}

/** Who a request acts as. */
interface Actor {
  account: Account;
  /** May read branch protection: a repository admin, or an installation with the administration permission. */
  admin: boolean;
  installation: Installation | undefined;
}

interface App {
  id: number;
  slug: string;
  owner: Account;
  publicKey: KeyObject;
}

interface Installation {
  id: number;
  app: App;
  account: Account;
  repositories: FakeRepository[];
  permissions: Record<string, 'read' | 'write'>;
}

export interface IssuedInstallationToken {
  installationId: number;
  token: string;
  expiresAt: string;
}

/** An answer a test makes the next request of one operation get (GitHub trouble, a rate limit). */
export interface InjectedFailure {
  operationId: string;
  status: number;
  message: string;
  headers?: Record<string, string>;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

let lastId = 1000;
const nextId = (): number => ++lastId;
const timestamp = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const newSha = (): string => createHash('sha1').update(randomBytes(16)).digest('hex');
const segment = encodeURIComponent;

function errorAnswer(status: number, message: string, headers?: Record<string, string>): Answer {
  return { status, body: { message, documentation_url: DOCUMENTATION_URL, status: String(status) }, headers };
}

const notFound = (message = 'Not Found'): Answer => errorAnswer(404, message);

/** GitHub's 422 with the field that was wrong. */
function validationFailed(resource: string, field: string, message?: string): Answer {
  return { status: 422, body: { message: 'Validation Failed', errors: [{ resource, field, code: message === undefined ? 'invalid' : 'custom', ...(message === undefined ? {} : { message }) }], documentation_url: DOCUMENTATION_URL } };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(body: JsonObject, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
}

/** One repository on the stand-in; tests arrange branches, checks and protection through it. */
export class FakeRepository {
  readonly id = nextId();
  readonly branches = new Map<string, string>();
  readonly commits = new Map<string, Commit>();
  readonly pulls = new Map<number, PullRecord>();
  readonly labels = new Map<string, Label>();
  readonly comments: Comment[] = [];
  readonly reviews: Review[] = [];
  readonly statuses = new Map<string, StatusRecord[]>();
  readonly checkRuns = new Map<string, CheckRunRecord[]>();
  readonly protections = new Map<string, Protection>();
  readonly createdAt = timestamp();
  #lastNumber = 0;

  constructor(
    readonly owner: Account,
    readonly name: string,
    readonly defaultBranch: string,
  ) {
    this.branches.set(defaultBranch, this.commit('Initial commit', []));
  }

  get fullName(): string {
    return `${this.owner.login}/${this.name}`;
  }

  /** A new commit with these parents; its SHA. */
  commit(message: string, parents: string[]): string {
    const sha = newSha();
    this.commits.set(sha, { sha, parents, message, tree: newSha(), date: timestamp() });
    return sha;
  }

  /** `branch` at a new commit on top of the default branch (as a push would leave it); the commit's SHA. */
  pushBranch(branch: string, message = `Change on ${branch}`): string {
    const base = this.branches.get(this.defaultBranch) ?? '';
    const sha = this.commit(message, [base]);
    this.branches.set(branch, sha);
    return sha;
  }

  addStatus(sha: string, status: { context: string; state: StatusState; description?: string; targetUrl?: string }, creator: Account): void {
    const list = this.statuses.get(sha) ?? [];
    // Newest first, the order GitHub lists them in.
    list.unshift({ id: nextId(), context: status.context, state: status.state, description: status.description ?? null, targetUrl: status.targetUrl ?? null, createdAt: timestamp(), creator });
    this.statuses.set(sha, list);
  }

  addCheckRun(sha: string, run: { name: string; status: CheckRunStatus; conclusion?: CheckRunConclusion; title?: string }): void {
    const list = this.checkRuns.get(sha) ?? [];
    list.push({ id: nextId(), name: run.name, status: run.status, conclusion: run.conclusion ?? null, title: run.title ?? null, startedAt: timestamp(), completedAt: run.status === 'completed' ? timestamp() : null });
    this.checkRuns.set(sha, list);
  }

  protect(branch: string, required: { contexts?: string[]; checks?: string[] }): void {
    this.protections.set(branch, { contexts: required.contexts ?? [], checks: required.checks ?? [] });
  }

  /** Someone closes the pull request on the web, without merging. */
  closeOnWeb(number: number, by: Account): void {
    const pull = this.pulls.get(number);
    if (pull === undefined) throw new Error(`no pull request ${number}`);
    Object.assign(pull, { state: 'closed', closedBy: by, closedAt: timestamp(), updatedAt: timestamp() });
  }

  /** The commit a branch name or SHA names. */
  resolve(ref: string): string | undefined {
    return this.branches.get(ref) ?? (this.commits.has(ref) ? ref : undefined);
  }

  newPull(fields: Pick<PullRecord, 'title' | 'body' | 'author' | 'headRef' | 'headSha' | 'baseRef'>): PullRecord {
    const now = timestamp();
    const pull: PullRecord = { ...fields, number: ++this.#lastNumber, id: nextId(), state: 'open', merged: false, mergedBy: null, mergedAt: null, mergeCommitSha: null, closedBy: null, closedAt: null, labels: [], createdAt: now, updatedAt: now };
    this.pulls.set(pull.number, pull);
    return pull;
  }
}

/** The JSON GitHub answers with, built from the stand-in's records: every field the description requires. */
class Representations {
  constructor(
    /** The REST API root (with /api/v3 on Enterprise Server). */
    private readonly api: string,
    /** Where pages are. */
    private readonly web: string,
  ) {}

  user(account: Account): JsonObject {
    const url = `${this.api}/users/${segment(account.login)}`;
    return {
      login: account.login,
      id: account.id,
      node_id: `U_${account.id}`,
      avatar_url: `${this.web}/avatars/${segment(account.login)}`,
      gravatar_id: '',
      url,
      html_url: `${this.web}/${segment(account.login)}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: account.type,
      site_admin: false,
    };
  }

  privateUser(account: Account): JsonObject {
    return {
      ...this.user(account),
      name: null,
      company: null,
      blog: null,
      location: null,
      email: null,
      hireable: null,
      bio: null,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: timestamp(),
      updated_at: timestamp(),
      private_gists: 0,
      total_private_repos: 0,
      owned_private_repos: 0,
      disk_usage: 0,
      collaborators: 0,
      two_factor_authentication: true,
    };
  }

  repositoryUrl(repository: FakeRepository): string {
    return `${this.api}/repos/${segment(repository.owner.login)}/${segment(repository.name)}`;
  }

  repositoryPage(repository: FakeRepository): string {
    return `${this.web}/${segment(repository.owner.login)}/${segment(repository.name)}`;
  }

  repository(repository: FakeRepository): JsonObject {
    const url = this.repositoryUrl(repository);
    const page = this.repositoryPage(repository);
    // The *_url fields that are plain `{url}/{name}`, and those that are URI templates.
    const plain = ['contributors', 'deployments', 'downloads', 'events', 'forks', 'hooks', 'languages', 'merges', 'stargazers', 'subscribers', 'subscription', 'tags', 'teams'];
    const templated: Record<string, string> = {
      archive_url: '/{archive_format}{/ref}',
      assignees_url: '/assignees{/user}',
      blobs_url: '/git/blobs{/sha}',
      branches_url: '/branches{/branch}',
      collaborators_url: '/collaborators{/collaborator}',
      comments_url: '/comments{/number}',
      commits_url: '/commits{/sha}',
      compare_url: '/compare/{base}...{head}',
      contents_url: '/contents/{+path}',
      git_commits_url: '/git/commits{/sha}',
      git_refs_url: '/git/refs{/sha}',
      git_tags_url: '/git/tags{/sha}',
      issue_comment_url: '/issues/comments{/number}',
      issue_events_url: '/issues/events{/number}',
      issues_url: '/issues{/number}',
      keys_url: '/keys{/key_id}',
      labels_url: '/labels{/name}',
      milestones_url: '/milestones{/number}',
      notifications_url: '/notifications{?since,all,participating}',
      pulls_url: '/pulls{/number}',
      releases_url: '/releases{/id}',
      statuses_url: '/statuses/{sha}',
      trees_url: '/git/trees{/sha}',
    };
    return {
      id: repository.id,
      node_id: `R_${repository.id}`,
      name: repository.name,
      full_name: repository.fullName,
      owner: this.user(repository.owner),
      private: true,
      html_url: page,
      description: null,
      fork: false,
      url,
      ...Object.fromEntries(plain.map((name) => [`${name}_url`, `${url}/${name}`])),
      ...Object.fromEntries(Object.entries(templated).map(([field, suffix]) => [field, url + suffix])),
      git_url: `${page.replace(/^https?:/, 'git:')}.git`,
      ssh_url: `git@127.0.0.1:${repository.fullName}.git`,
      clone_url: `${page}.git`,
      svn_url: page,
      mirror_url: null,
      homepage: null,
      language: null,
      license: null,
      forks: 0,
      forks_count: 0,
      stargazers_count: 0,
      watchers: 0,
      watchers_count: 0,
      size: 1,
      default_branch: repository.defaultBranch,
      open_issues: 0,
      open_issues_count: 0,
      has_issues: true,
      has_projects: false,
      has_wiki: false,
      has_pages: false,
      has_downloads: false,
      archived: false,
      disabled: false,
      pushed_at: repository.createdAt,
      created_at: repository.createdAt,
      updated_at: repository.createdAt,
    };
  }

  label(repository: FakeRepository, label: Label): JsonObject {
    // The description wants a string here, though GitHub is known to send null for a label without one.
    return { id: label.id, node_id: `LA_${label.id}`, url: `${this.repositoryUrl(repository)}/labels/${segment(label.name)}`, name: label.name, description: '', color: label.color, default: false };
  }

  pullRequest(repository: FakeRepository, pull: PullRecord): JsonObject {
    const url = `${this.repositoryUrl(repository)}/pulls/${pull.number}`;
    const issueUrl = `${this.repositoryUrl(repository)}/issues/${pull.number}`;
    const page = `${this.repositoryPage(repository)}/pull/${pull.number}`;
    const statusesUrl = `${this.repositoryUrl(repository)}/statuses/${pull.headSha}`;
    const side = (ref: string, sha: string) => ({ label: `${repository.owner.login}:${ref}`, ref, sha, user: this.user(repository.owner), repo: this.repository(repository) });
    return {
      url,
      id: pull.id,
      node_id: `PR_${pull.id}`,
      html_url: page,
      diff_url: `${page}.diff`,
      patch_url: `${page}.patch`,
      issue_url: issueUrl,
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      review_comment_url: `${this.repositoryUrl(repository)}/pulls/comments{/number}`,
      comments_url: `${issueUrl}/comments`,
      statuses_url: statusesUrl,
      number: pull.number,
      state: pull.state,
      locked: false,
      title: pull.title,
      user: this.user(pull.author),
      body: pull.body,
      labels: pull.labels.map((label) => this.label(repository, label)),
      milestone: null,
      active_lock_reason: null,
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.closedAt,
      merged_at: pull.mergedAt,
      // GitHub fills this with a test merge while the pull request is open; the adapter must not take it for a merge.
      merge_commit_sha: pull.mergeCommitSha ?? (pull.state === 'open' ? newSha() : null),
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: side(pull.headRef, pull.headSha),
      base: side(pull.baseRef, repository.branches.get(pull.baseRef) ?? ''),
      _links: {
        self: { href: url },
        html: { href: page },
        issue: { href: issueUrl },
        comments: { href: `${issueUrl}/comments` },
        review_comments: { href: `${url}/comments` },
        review_comment: { href: `${this.repositoryUrl(repository)}/pulls/comments{/number}` },
        commits: { href: `${url}/commits` },
        statuses: { href: statusesUrl },
      },
      author_association: 'MEMBER',
      auto_merge: null,
      draft: false,
      merged: pull.merged,
      mergeable: pull.state === 'open' ? true : null,
      rebaseable: pull.state === 'open' ? true : null,
      mergeable_state: pull.state === 'open' ? 'clean' : 'unknown',
      merged_by: pull.mergedBy === null ? null : this.user(pull.mergedBy),
      comments: repository.comments.filter((comment) => comment.issueNumber === pull.number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 1,
      deletions: 0,
      changed_files: 1,
    };
  }

  issue(repository: FakeRepository, pull: PullRecord): JsonObject {
    const url = `${this.repositoryUrl(repository)}/issues/${pull.number}`;
    return {
      id: pull.id + 1,
      node_id: `I_${pull.id}`,
      url,
      repository_url: this.repositoryUrl(repository),
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `${this.repositoryPage(repository)}/pull/${pull.number}`,
      number: pull.number,
      state: pull.state,
      title: pull.title,
      body: pull.body,
      user: this.user(pull.author),
      labels: pull.labels.map((label) => this.label(repository, label)),
      assignee: null,
      milestone: null,
      locked: false,
      comments: repository.comments.filter((comment) => comment.issueNumber === pull.number).length,
      pull_request: { url: `${this.repositoryUrl(repository)}/pulls/${pull.number}`, html_url: `${this.repositoryPage(repository)}/pull/${pull.number}`, diff_url: null, patch_url: null, merged_at: pull.mergedAt },
      closed_at: pull.closedAt,
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      // Who closed it, merged or not: the pull request object has no such field for a closed, unmerged one.
      closed_by: pull.closedBy === null ? null : this.user(pull.closedBy),
    };
  }

  comment(repository: FakeRepository, id: number, issueNumber: number, body: string, author: Account): JsonObject {
    const issueUrl = `${this.repositoryUrl(repository)}/issues/${issueNumber}`;
    const now = timestamp();
    return { id, node_id: `IC_${id}`, url: `${this.repositoryUrl(repository)}/issues/comments/${id}`, html_url: `${this.repositoryPage(repository)}/pull/${issueNumber}#issuecomment-${id}`, issue_url: issueUrl, body, user: this.user(author), created_at: now, updated_at: now, author_association: 'MEMBER' };
  }

  review(repository: FakeRepository, id: number, pull: PullRecord, review: Review, author: Account): JsonObject {
    const pullUrl = `${this.repositoryUrl(repository)}/pulls/${pull.number}`;
    const page = `${this.repositoryPage(repository)}/pull/${pull.number}#pullrequestreview-${id}`;
    return { id, node_id: `PRR_${id}`, user: this.user(author), body: review.body, state: review.state, html_url: page, pull_request_url: pullUrl, _links: { html: { href: page }, pull_request: { href: pullUrl } }, submitted_at: timestamp(), commit_id: review.commitId, author_association: 'MEMBER' };
  }

  status(repository: FakeRepository, sha: string, status: StatusRecord): JsonObject {
    return { url: `${this.repositoryUrl(repository)}/statuses/${sha}`, avatar_url: null, id: status.id, node_id: `SC_${status.id}`, state: status.state, description: status.description, target_url: status.targetUrl, context: status.context, created_at: status.createdAt, updated_at: status.createdAt, creator: this.user(status.creator) };
  }

  checkRun(repository: FakeRepository, sha: string, run: CheckRunRecord): JsonObject {
    const url = `${this.repositoryUrl(repository)}/check-runs/${run.id}`;
    return {
      id: run.id,
      head_sha: sha,
      node_id: `CR_${run.id}`,
      external_id: null,
      url,
      html_url: `${this.repositoryPage(repository)}/runs/${run.id}`,
      details_url: `${this.repositoryPage(repository)}/runs/${run.id}`,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      output: { title: run.title, summary: null, text: null, annotations_count: 0, annotations_url: `${url}/annotations` },
      name: run.name,
      check_suite: { id: run.id + 1 },
      app: null,
      pull_requests: [],
    };
  }

  protection(repository: FakeRepository, branch: string, protection: Protection): JsonObject {
    const url = `${this.repositoryUrl(repository)}/branches/${segment(branch)}/protection`;
    const required = protection.contexts.length + protection.checks.length > 0;
    return {
      url,
      ...(required
        ? {
            required_status_checks: {
              url: `${url}/required_status_checks`,
              strict: true,
              // GitHub lists each required check in both fields; kept apart here, a test sees that both are read.
              contexts: protection.contexts,
              checks: protection.checks.map((context) => ({ context, app_id: 15368 })),
              contexts_url: `${url}/required_status_checks/contexts`,
            },
          }
        : {}),
      enforce_admins: { url: `${url}/enforce_admins`, enabled: false },
    };
  }

  gitCommit(repository: FakeRepository, commit: Commit): JsonObject {
    const url = `${this.repositoryUrl(repository)}/git/commits/${commit.sha}`;
    const person = { name: 'Someone', email: 'someone@example.com', date: commit.date };
    return {
      sha: commit.sha,
      node_id: `C_${commit.sha}`,
      url,
      html_url: `${this.repositoryPage(repository)}/commit/${commit.sha}`,
      author: person,
      committer: person,
      message: commit.message,
      tree: { sha: commit.tree, url: `${this.repositoryUrl(repository)}/git/trees/${commit.tree}` },
      parents: commit.parents.map((sha) => ({ sha, url: `${this.repositoryUrl(repository)}/git/commits/${sha}`, html_url: `${this.repositoryPage(repository)}/commit/${sha}` })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  app(app: App): JsonObject {
    return { id: app.id, slug: app.slug, node_id: `A_${app.id}`, owner: this.user(app.owner), name: app.slug, description: null, external_url: this.web, html_url: `${this.web}/apps/${segment(app.slug)}`, created_at: timestamp(), updated_at: timestamp(), permissions: {}, events: [] };
  }

  installation(installation: Installation): JsonObject {
    return {
      id: installation.id,
      account: this.user(installation.account),
      repository_selection: 'selected',
      access_tokens_url: `${this.api}/app/installations/${installation.id}/access_tokens`,
      repositories_url: `${this.api}/installation/repositories`,
      html_url: `${this.web}/settings/installations/${installation.id}`,
      app_id: installation.app.id,
      target_id: installation.account.id,
      target_type: installation.account.type,
      permissions: installation.permissions,
      events: [],
      created_at: timestamp(),
      updated_at: timestamp(),
      single_file_name: null,
      app_slug: installation.app.slug,
      suspended_by: null,
      suspended_at: null,
    };
  }
}

/** Items of one page and the Link header pointing at the next and last pages, as GitHub paginates lists. */
function paginate<T>(items: T[], requestUrl: URL): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Number(requestUrl.searchParams.get('per_page') ?? '30'), 100);
  const page = Number(requestUrl.searchParams.get('page') ?? '1');
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const pageUrl = (number: number) => {
    const url = new URL(requestUrl);
    url.searchParams.set('page', String(number));
    return url.href;
  };
  const links = page < last ? [`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`] : [];
  return { items: items.slice((page - 1) * perPage, page * perPage), headers: links.length > 0 ? { link: links.join(', ') } : {} };
}

interface Context {
  actor: Actor;
  parameters: Record<string, string>;
  url: URL;
  body: JsonObject;
  repository: FakeRepository;
}

/** Operations answered with the App's JWT rather than a token. */
const APP_OPERATIONS = new Set(['apps/get-authenticated', 'apps/get-repo-installation', 'apps/create-installation-access-token']);

export class GithubApiServer {
  readonly violations: Violation[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly issuedInstallationTokens: IssuedInstallationToken[] = [];
  /** How long the next installation tokens live (GitHub's last an hour). */
  installationTokenLifetimeMs = HOUR_MS;
  readonly #repositories: FakeRepository[] = [];
  readonly #accounts = new Map<string, Account>();
  readonly #tokens = new Map<string, Actor & { expiresAt: number }>();
  readonly #apps = new Map<number, App>();
  readonly #installations = new Map<number, Installation>();
  readonly #failures: InjectedFailure[] = [];
  readonly #representations: Representations;

  private constructor(
    readonly description: OpenApiDescription,
    private readonly server: ReturnType<typeof createServer>,
    readonly origin: string,
    /** Where the API is: the server's root for api.github.com, /api/v3 for GitHub Enterprise Server. */
    private readonly prefix: string,
  ) {
    this.#representations = new Representations(origin + prefix, origin);
  }

  /** Listens on a free loopback port; GitHub Enterprise Server descriptions are served under /api/v3 as GHES does. */
  static async start(description: OpenApiDescription): Promise<GithubApiServer> {
    const prefix = description.name.startsWith('ghes-') ? '/api/v3' : '';
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const instance = new GithubApiServer(description, server, `http://127.0.0.1:${port}`, prefix);
    // Nobody knows the port before this returns, so no request can come before the handler.
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void instance.handle(request, response));
    return instance;
  }

  /** What the adapter's credential names as the REST API root. */
  get baseUrl(): string {
    return this.origin + this.prefix;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Distinct `METHOD /path/{template}` of the requests that, with their answers, fit the description; sorted. */
  routesTried(): string[] {
    const fitting = this.requests.filter((request) => request.route !== undefined && request.status !== VIOLATION_STATUS);
    return [...new Set(fitting.map((request) => `${request.route?.method} ${request.route?.path}`))].sort();
  }

  account(login: string, type: Account['type'] = 'User'): Account {
    let account = this.#accounts.get(login);
    if (account === undefined) {
      account = { id: nextId(), login, type };
      this.#accounts.set(login, account);
    }
    return account;
  }

  /** A user with a personal access token; `admin`: may read branch protection. */
  addUser(login: string, options: { admin?: boolean } = {}): { account: Account; token: string } {
    const account = this.account(login);
    const token = `ghp_${randomBytes(18).toString('hex')}`;
    this.#tokens.set(token, { account, admin: options.admin ?? false, installation: undefined, expiresAt: Number.POSITIVE_INFINITY });
    return { account, token };
  }

  addRepository(owner: string, name: string, defaultBranch = 'main'): FakeRepository {
    const repository = new FakeRepository(this.account(owner), name, defaultBranch);
    this.#repositories.push(repository);
    return repository;
  }

  /** A GitHub App whose JWTs are checked with `publicKey`; its installation tokens act as `<slug>[bot]`. */
  addApp(slug: string, publicKey: KeyObject): App {
    const app: App = { id: nextId(), slug, owner: this.account(`${slug}-owner`), publicKey };
    this.#apps.set(app.id, app);
    return app;
  }

  installApp(app: App, repositories: FakeRepository[], permissions: Record<string, 'read' | 'write'>): number {
    const [first] = repositories;
    if (first === undefined) throw new Error('an installation needs a repository');
    const installation: Installation = { id: nextId(), app, account: first.owner, repositories, permissions };
    this.#installations.set(installation.id, installation);
    return installation.id;
  }

  /** The next request of `failure.operationId` gets this answer instead. */
  failNext(failure: InjectedFailure): void {
    this.#failures.push(failure);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const rawUrl = request.url ?? '/';
    const record: RecordedRequest = { method, rawUrl, route: undefined, pathParameters: {}, credential: /^\S+ (\S+)$/.exec(request.headers.authorization ?? '')?.[1], status: 0 };
    this.requests.push(record);
    const send = (answer: Answer) => {
      record.status = answer.status;
      const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
      response.writeHead(answer.status, { ...(text === '' ? {} : { 'content-type': 'application/json; charset=utf-8' }), ...answer.headers });
      response.end(text);
    };
    const refuse = (side: Violation['side'], problems: string[]) => {
      this.violations.push({ request: `${method} ${rawUrl}`, side, problems });
      send({ status: VIOLATION_STATUS, body: { message: `${side} does not fit GitHub's description: ${problems.join('; ')}` } });
    };

    const url = new URL(rawUrl, this.origin);
    if (!url.pathname.startsWith(`${this.prefix}/`)) return refuse('request', [`the API is under ${this.prefix}/`]);
    const matched = this.description.match(method, url.pathname.slice(this.prefix.length));
    if (matched === undefined) return refuse('request', [`${method} ${url.pathname} is no operation of ${this.description.name}`]);
    record.route = matched.route;
    record.pathParameters = matched.pathParameters;

    let body: unknown;
    try {
      body = await readJson(request);
    } catch (error) {
      return refuse('request', [(error as Error).message]);
    }
    const requestProblems = this.description.checkRequest(matched.route, { pathParameters: matched.pathParameters, query: url.searchParams, contentType: request.headers['content-type'], body });
    if (requestProblems.length > 0) return refuse('request', requestProblems);

    const answer = await this.answer(matched.route, matched.pathParameters, url, request.headers.authorization, isObject(body) ? body : {});
    const responseProblems = this.description.checkResponse(matched.route, answer.status, answer.body);
    if (responseProblems.length > 0) return refuse('response', responseProblems);
    send(answer);
  }

  private async answer(route: Route, parameters: Record<string, string>, url: URL, authorization: string | undefined, body: JsonObject): Promise<Answer> {
    if (APP_OPERATIONS.has(route.operationId)) return this.answerApp(route, parameters, authorization, body);
    const actor = this.actorOf(authorization);
    if (!('account' in actor)) return actor;
    const failureIndex = this.#failures.findIndex((failure) => failure.operationId === route.operationId);
    if (failureIndex >= 0) {
      const [failure] = this.#failures.splice(failureIndex, 1);
      if (failure !== undefined) return errorAnswer(failure.status, failure.message, failure.headers);
    }
    if (route.operationId === 'users/get-authenticated') {
      return actor.installation === undefined ? { status: 200, body: this.#representations.privateUser(actor.account) } : errorAnswer(403, 'Resource not accessible by integration');
    }
    const repository = this.#repositories.find((each) => each.owner.login === parameters.owner && each.name === parameters.repo);
    // GitHub does not tell a repository that is not there from one the credential may not see.
    if (repository === undefined || (actor.installation !== undefined && !actor.installation.repositories.includes(repository))) return notFound();
    const handler = this.handlers[route.operationId];
    if (handler === undefined) return errorAnswer(501, `the stand-in does not do ${route.operationId}`);
    return handler({ actor, parameters, url, body, repository });
  }

  /** The actor of a token, or the 401 GitHub answers. */
  private actorOf(authorization: string | undefined): Actor | Answer {
    if (authorization === undefined) return errorAnswer(401, 'Requires authentication');
    const token = /^(?:token|bearer) (\S+)$/i.exec(authorization)?.[1];
    const actor = token === undefined ? undefined : this.#tokens.get(token);
    if (actor === undefined || actor.expiresAt <= Date.now()) return errorAnswer(401, 'Bad credentials');
    return actor;
  }

  private async answerApp(route: Route, parameters: Record<string, string>, authorization: string | undefined, body: JsonObject): Promise<Answer> {
    const jwt = /^bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    if (jwt === undefined) return errorAnswer(401, 'A JSON web token could not be decoded');
    let app: App | undefined;
    try {
      app = this.#apps.get(Number(decodeJwt(jwt).iss));
      if (app === undefined) return errorAnswer(401, 'Integration not found');
      // GitHub's rules: RS256, signed with the App's key, issued by the App, at most ten minutes long.
      const { payload } = await jwtVerify(jwt, app.publicKey, { algorithms: ['RS256'], issuer: String(app.id), clockTolerance: 60 });
      if (payload.exp === undefined || payload.iat === undefined || payload.exp - payload.iat > 600) return errorAnswer(401, "'Expiration time' claim ('exp') is too far in the future");
    } catch (error) {
      return errorAnswer(401, `A JSON web token could not be decoded (${(error as Error).message})`);
    }
    const representations = this.#representations;
    switch (route.operationId) {
      case 'apps/get-authenticated':
        return { status: 200, body: representations.app(app) };
      case 'apps/get-repo-installation': {
        const installation = [...this.#installations.values()].find((each) => each.app === app && each.repositories.some((repository) => repository.owner.login === parameters.owner && repository.name === parameters.repo));
        return installation === undefined ? notFound() : { status: 200, body: representations.installation(installation) };
      }
      default: {
        const installation = this.#installations.get(Number(parameters.installation_id));
        if (installation === undefined || installation.app !== app) return notFound();
        const requested = Array.isArray(body.repositories) ? body.repositories : [];
        if (requested.length > 0) return validationFailed('Installation', 'repositories');
        const token = `ghs_${randomBytes(18).toString('hex')}`;
        const expiresAt = Date.now() + this.installationTokenLifetimeMs;
        this.#tokens.set(token, { account: this.account(`${app.slug}[bot]`, 'Bot'), admin: installation.permissions.administration !== undefined, installation, expiresAt });
        const issued = { installationId: installation.id, token, expiresAt: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z') };
        this.issuedInstallationTokens.push(issued);
        return { status: 201, body: { token, expires_at: issued.expiresAt, permissions: installation.permissions, repository_selection: 'selected' } };
      }
    }
  }

  private readonly handlers: Record<string, (context: Context) => Answer> = {
    'pulls/list': ({ url, repository }) => {
      const query = url.searchParams;
      const state = query.get('state') ?? 'open';
      const head = query.get('head');
      const base = query.get('base');
      const pulls = [...repository.pulls.values()].filter(
        (pull) => (state === 'all' || pull.state === state) && (head === null || head === `${repository.owner.login}:${pull.headRef}`) && (base === null || pull.baseRef === base),
      );
      const ascending = query.get('direction') === 'asc';
      pulls.sort((a, b) => (ascending ? a.number - b.number : b.number - a.number));
      const page = paginate(pulls, url);
      return { status: 200, body: page.items.map((pull) => this.#representations.pullRequest(repository, pull)), headers: page.headers };
    },
    'pulls/get': ({ parameters, repository }) => {
      const pull = repository.pulls.get(Number(parameters.pull_number));
      return pull === undefined ? notFound() : { status: 200, body: this.#representations.pullRequest(repository, pull) };
    },
    'pulls/create': ({ actor, body, repository }) => {
      const head = (stringField(body, 'head') ?? '').replace(`${repository.owner.login}:`, '');
      const base = stringField(body, 'base') ?? '';
      const headSha = repository.branches.get(head);
      if (headSha === undefined) return validationFailed('PullRequest', 'head');
      if (!repository.branches.has(base)) return validationFailed('PullRequest', 'base');
      if ([...repository.pulls.values()].some((pull) => pull.state === 'open' && pull.headRef === head && pull.baseRef === base)) {
        return validationFailed('PullRequest', 'head', `A pull request already exists for ${repository.owner.login}:${head}.`);
      }
      const pull = repository.newPull({ title: stringField(body, 'title') ?? '', body: stringField(body, 'body') ?? '', author: actor.account, headRef: head, headSha, baseRef: base });
      return { status: 201, body: this.#representations.pullRequest(repository, pull) };
    },
    'pulls/update': ({ actor, parameters, body, repository }) => {
      const pull = repository.pulls.get(Number(parameters.pull_number));
      if (pull === undefined) return notFound();
      if (stringField(body, 'state') === 'closed' && pull.state === 'open') Object.assign(pull, { state: 'closed', closedBy: actor.account, closedAt: timestamp(), updatedAt: timestamp() });
      return { status: 200, body: this.#representations.pullRequest(repository, pull) };
    },
    'issues/get': ({ parameters, repository }) => {
      const pull = repository.pulls.get(Number(parameters.issue_number));
      return pull === undefined ? notFound() : { status: 200, body: this.#representations.issue(repository, pull) };
    },
    'issues/add-labels': ({ parameters, body, repository }) => {
      const pull = repository.pulls.get(Number(parameters.issue_number));
      if (pull === undefined) return notFound();
      const names = (Array.isArray(body.labels) ? body.labels : []).map((label: unknown) => (isObject(label) ? String(label.name) : String(label)));
      for (const name of names) {
        // GitHub makes the labels the repository does not have yet.
        let label = repository.labels.get(name);
        if (label === undefined) {
          label = { id: nextId(), name, color: 'ededed' };
          repository.labels.set(name, label);
        }
        if (!pull.labels.includes(label)) pull.labels.push(label);
      }
      return { status: 200, body: pull.labels.map((label) => this.#representations.label(repository, label)) };
    },
    'issues/create-comment': ({ actor, parameters, body, repository }) => {
      const number = Number(parameters.issue_number);
      if (!repository.pulls.has(number)) return notFound();
      const text = stringField(body, 'body') ?? '';
      repository.comments.push({ issueNumber: number, body: text, author: actor.account.login });
      return { status: 201, body: this.#representations.comment(repository, nextId(), number, text, actor.account) };
    },
    'pulls/create-review': ({ actor, parameters, body, repository }) => {
      const pull = repository.pulls.get(Number(parameters.pull_number));
      if (pull === undefined) return notFound();
      const event = stringField(body, 'event');
      if (event === 'APPROVE' && pull.author === actor.account) {
        return { status: 422, body: { message: 'Unprocessable Entity', errors: ['Can not approve your own pull request'], documentation_url: DOCUMENTATION_URL } };
      }
      const review: Review = { pullNumber: pull.number, state: event === 'APPROVE' ? 'APPROVED' : event === 'REQUEST_CHANGES' ? 'CHANGES_REQUESTED' : 'COMMENTED', body: stringField(body, 'body') ?? '', author: actor.account.login, commitId: stringField(body, 'commit_id') ?? pull.headSha };
      repository.reviews.push(review);
      return { status: 200, body: this.#representations.review(repository, nextId(), pull, review, actor.account) };
    },
    'pulls/merge': ({ actor, parameters, body, repository }) => this.merge(actor, repository, Number(parameters.pull_number), body),
    'repos/list-commit-statuses-for-ref': ({ parameters, url, repository }) => {
      const sha = repository.resolve(parameters.ref ?? '');
      const page = paginate(sha === undefined ? [] : (repository.statuses.get(sha) ?? []), url);
      return { status: 200, body: page.items.map((status) => this.#representations.status(repository, sha ?? '', status)), headers: page.headers };
    },
    'checks/list-for-ref': ({ parameters, url, repository }) => {
      const sha = repository.resolve(parameters.ref ?? '');
      if (sha === undefined) return validationFailed('Commit', 'sha', `No commit found for SHA: ${parameters.ref ?? ''}`);
      const runs = [...(repository.checkRuns.get(sha) ?? [])].reverse();
      // filter=latest (the default): the newest run of each name only.
      const listed = url.searchParams.get('filter') === 'all' ? runs : runs.filter((run, index) => runs.findIndex((other) => other.name === run.name) === index);
      const page = paginate(listed, url);
      return { status: 200, body: { total_count: listed.length, check_runs: page.items.map((run) => this.#representations.checkRun(repository, sha, run)) }, headers: page.headers };
    },
    'repos/get-branch-protection': ({ actor, parameters, repository }) => {
      const branch = parameters.branch ?? '';
      // GitHub answers 404 to accounts that are not admins, and 403 to an App without the administration permission.
      if (!actor.admin) return actor.installation === undefined ? notFound() : errorAnswer(403, 'Resource not accessible by integration');
      if (!repository.branches.has(branch)) return notFound('Branch not found');
      const protection = repository.protections.get(branch);
      return protection === undefined ? notFound('Branch not protected') : { status: 200, body: this.#representations.protection(repository, branch, protection) };
    },
    'git/get-commit': ({ parameters, repository }) => {
      const commit = repository.commits.get(parameters.commit_sha ?? '');
      return commit === undefined ? notFound() : { status: 200, body: this.#representations.gitCommit(repository, commit) };
    },
  };

  private merge(actor: Actor, repository: FakeRepository, number: number, body: JsonObject): Answer {
    const pull = repository.pulls.get(number);
    if (pull === undefined) return notFound();
    if (pull.state !== 'open') return errorAnswer(405, 'Pull Request is not mergeable');
    const sha = stringField(body, 'sha');
    if (sha !== undefined && sha !== pull.headSha) return errorAnswer(409, 'Head branch was modified. Review and try the merge again.');
    const protection = repository.protections.get(pull.baseRef);
    for (const name of protection === undefined ? [] : [...protection.contexts, ...protection.checks]) {
      const status = repository.statuses.get(pull.headSha)?.find((each) => each.context === name);
      const run = [...(repository.checkRuns.get(pull.headSha) ?? [])].reverse().find((each) => each.name === name);
      const passed = status?.state === 'success' || (run?.status === 'completed' && ['success', 'neutral', 'skipped'].includes(run.conclusion ?? ''));
      const failed = status?.state === 'failure' || status?.state === 'error' || (run?.status === 'completed' && !passed);
      if (!passed) return errorAnswer(405, `Required status check "${name}" is ${failed ? 'failing' : 'expected'}.`);
    }
    const method = stringField(body, 'merge_method') ?? 'merge';
    const baseSha = repository.branches.get(pull.baseRef) ?? '';
    const title = stringField(body, 'commit_title') ?? `Merge pull request #${pull.number} from ${repository.owner.login}/${pull.headRef}`;
    const message = [title, stringField(body, 'commit_message') ?? ''].filter((part) => part !== '').join('\n\n');
    const mergeSha = repository.commit(message, method === 'merge' ? [baseSha, pull.headSha] : [baseSha]);
    repository.branches.set(pull.baseRef, mergeSha);
    const now = timestamp();
    Object.assign(pull, { state: 'closed', merged: true, mergedBy: actor.account, mergedAt: now, closedAt: now, closedBy: actor.account, mergeCommitSha: mergeSha, updatedAt: now });
    return { status: 200, body: { sha: mergeSha, merged: true, message: 'Pull Request successfully merged' } };
  }
}

/** The request's JSON body; undefined when it has none. */
async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error('the body is over 1 MiB');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('the body is not JSON');
  }
}
