/**
 * The Forge interface on Gitea's REST API v1 (tested against Gitea 1.27, see gitea-binary.ts). Every answer field
 * used is validated; every error says what was attempted, with Gitea's own message, and never the token.
 *
 * Gitea specifics the interface hides:
 * - Pull requests are labelled by label id: addLabels reads the repository's labels and creates the missing ones.
 * - Gitea refuses an approving review by the pull request's author (422 "approve your own pull is not allowed"):
 *   approve then throws a non-retryable ForgeError saying so; the delivery approves with a second account.
 * - Commit state `warning` counts as failure and `skipped` as success, as in Gitea's own combined state, which is
 *   what its branch protection checks.
 * - Required status contexts are glob patterns; protection that requires status checks without naming any requires
 *   every reported status to pass (and at least one to be reported): requiredChecks says `*` for it.
 * - Redirects (a renamed repository) are not followed, so the token never goes anywhere but the credential's server.
 */
import { types } from 'node:util';
import { z } from 'zod';
import type { ForgeCredential } from './credentials';
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

export interface GiteaForgeOptions {
  /** A `gitea` token credential; its baseUrl is the server root (the API is under /api/v1). */
  credential: ForgeCredential;
  repository: RepositoryName;
  /** Limit of each HTTP request, answer body included; default 30 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Gitea's default MAX_RESPONSE_ITEMS: a larger `limit` is cut to it. */
const PAGE_SIZE = 50;
/** A list longer than this many pages is taken for a server that ignores `page`. */
const MAX_PAGES = 1_000;
/** The colour of labels addLabels creates; Gitea requires one. */
const NEW_LABEL_COLOR = '#ededed';
/** Gitea's own `message` is quoted up to this length. */
const MAX_MESSAGE_CHARS = 300;

/** A list answer; an empty one may be `null` (a nil Go slice, as past the timeline's last page). */
function listOf<Item extends z.ZodType>(item: Item) {
  return z.array(item).nullable().transform((items) => items ?? []);
}

const userSchema = z.object({ login: z.string() });
const labelSchema = z.object({ id: z.number().int(), name: z.string() });
const branchInfoSchema = z.object({ ref: z.string(), sha: z.string(), repo_id: z.number().int() });
const pullRequestSchema = z.object({
  number: z.number().int(),
  html_url: z.string(),
  state: z.enum(['open', 'closed']),
  title: z.string(),
  user: userSchema,
  head: branchInfoSchema,
  base: branchInfoSchema,
  merged: z.boolean(),
  merge_commit_sha: z.string().nullish(),
  merged_by: userSchema.nullish(),
  labels: z.array(labelSchema).nullish(),
});
type GiteaPullRequest = z.infer<typeof pullRequestSchema>;
const timelineEventSchema = z.object({ type: z.string(), user: userSchema.nullish() });
const commitStatusSchema = z.object({ context: z.string(), status: z.string(), description: z.string().nullish(), target_url: z.string().nullish() });
/** The combined status lists the latest status of each context. */
const combinedStatusSchema = z.object({ statuses: z.array(commitStatusSchema).nullish() }).transform((combined) => combined.statuses ?? []);
const branchSchema = z.object({ protected: z.boolean(), enable_status_check: z.boolean(), status_check_contexts: z.array(z.string()).nullish() });
const commitSchema = z.object({ parents: z.array(z.object({ sha: z.string() })).nullish() });
const errorBodySchema = z.object({ message: z.string() });

/** A path segment of the API: a name given by a caller, or a number. */
type Segment = string | number;

interface RequestOptions {
  query?: Readonly<Record<string, string>>;
  body?: unknown;
  /** Non-2xx statuses returned to the caller instead of thrown. */
  accept?: readonly number[];
}

interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
  /** Gitea's own `message`, one line, when the body has one. */
  message: string | undefined;
}

const COMMIT_STATES: Readonly<Record<string, CheckState>> = {
  success: 'success',
  skipped: 'success',
  pending: 'pending',
  failure: 'failure',
  error: 'failure',
  warning: 'failure',
};

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}…` : line;
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/**
 * One path segment, percent-encoded so that `/`, `%`, `?`, `#` and spaces stay inside it. `.` and `..` survive
 * encoding and URL parsing removes them with the segment before: they are refused.
 */
function encodeSegment(segment: Segment): string {
  if (typeof segment === 'number') {
    if (!Number.isSafeInteger(segment) || segment < 0) throw new ForgeError(`${segment} is not a valid number for Gitea`, false);
    return String(segment);
  }
  if (segment === '' || segment === '.' || segment === '..') throw new ForgeError(`"${segment}" is not a valid name for Gitea`, false);
  return encodeURIComponent(segment);
}

/** The HTTP client: the only holder of the token. */
class GiteaApi {
  readonly #token: string;

  constructor(
    private readonly baseUrl: string,
    token: string,
    private readonly timeoutMs: number,
  ) {
    this.#token = token;
  }

  get token(): string {
    return this.#token;
  }

  /** `text` with any occurrence of the token replaced: what reaches an error message. */
  private redacted(text: string): string {
    return text.split(this.#token).join('[token]');
  }

  private error(message: string, retryable: boolean, status?: number, cause?: unknown): ForgeError {
    return new ForgeError(this.redacted(message), retryable, status, cause === undefined ? undefined : { cause: this.redactedCause(cause) });
  }

  /** A copy of the cause with its name and redacted message: its stack and fields may hold anything. */
  private redactedCause(cause: unknown): Error {
    if (!types.isNativeError(cause)) return new Error(this.redacted(String(cause)));
    const copy = new Error(this.redacted(cause.message));
    copy.name = cause.name;
    return copy;
  }

  /** The request's URL: the API root, the encoded segments and the query; nothing a caller gives can leave the path. */
  url(segments: readonly Segment[], query: Readonly<Record<string, string>> = {}): URL {
    const url = new URL(`${this.baseUrl}/api/v1/${segments.map(encodeSegment).join('/')}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url;
  }

  async request(what: string, method: string, segments: readonly Segment[], options: RequestOptions = {}): Promise<Answer> {
    const url = this.url(segments, options.query);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers: {
          Authorization: `token ${this.#token}`,
          Accept: 'application/json',
          ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        // A redirect would carry the token to wherever Gitea points; the credential decides where it goes.
        redirect: 'manual',
        signal: timeout,
      });
      text = await response.text();
    } catch (error) {
      if (timeout.aborted) {
        throw this.error(`Gitea at ${this.baseUrl} did not answer within ${this.timeoutMs / 1000} s when asked to ${what}`, true, undefined, error);
      }
      // fetch's own message is "fetch failed"; its cause says why (ECONNREFUSED, a DNS failure, a reset).
      // isNativeError, not instanceof: fetch's errors may come from another realm (a jest sandbox).
      const cause = types.isNativeError(error) && types.isNativeError(error.cause) ? error.cause : error;
      const reason = types.isNativeError(cause) ? cause.message : String(cause);
      throw this.error(`Gitea at ${this.baseUrl} could not be reached to ${what}: ${reason}`, true, undefined, cause);
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsedError = errorBodySchema.safeParse(body);
    const message = parsedError.success && parsedError.data.message.trim() !== '' ? oneLine(parsedError.data.message) : undefined;
    const answer: Answer = { status: response.status, body, headers: response.headers, message };
    if (response.ok || options.accept?.includes(response.status)) return answer;
    const statusLine = `${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
    const explained = message === undefined ? '' : `: ${message}`;
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location') ?? 'nowhere';
      throw this.error(`Gitea redirected the request to ${what} to ${location} (${statusLine}); redirects are not followed (was the repository renamed or moved?)`, false, response.status);
    }
    const verb = isRetryableStatus(response.status) ? 'failed' : 'refused';
    throw this.error(`Gitea ${verb} to ${what}: ${statusLine}${explained}`, isRetryableStatus(response.status), response.status);
  }

  /** The answer's body as `schema` describes it; a non-retryable error naming the first mismatch otherwise. */
  parse<Schema extends z.ZodType>(schema: Schema, answer: Answer, what: string): z.infer<Schema> {
    const parsed = schema.safeParse(answer.body);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'the answer' : issue.path.join('.');
    throw this.error(`Gitea's answer when asked to ${what} is not what was expected (${where}: ${issue?.message ?? 'invalid'})`, false, answer.status);
  }

  /**
   * The pages of a list until an empty one. Neither a short page nor X-Total-Count marks the end: Gitea cuts
   * `limit` to its MAX_RESPONSE_ITEMS, drops hidden entries from timeline pages, and counts only the page's entries
   * in the timeline's X-Total-Count. `page` describes one page's body and gives its items.
   */
  async *pages<Item>(what: string, segments: readonly Segment[], page: z.ZodType<Item[]>, query: Readonly<Record<string, string>> = {}): AsyncGenerator<Item[]> {
    for (let number = 1; number <= MAX_PAGES; number += 1) {
      const answer = await this.request(what, 'GET', segments, { query: { ...query, page: String(number), limit: String(PAGE_SIZE) } });
      const items = this.parse(page, answer, what);
      if (items.length === 0) return;
      yield items;
    }
    throw this.error(`Gitea listed more than ${MAX_PAGES} pages when asked to ${what}`, false);
  }

  async all<Item>(what: string, segments: readonly Segment[], page: z.ZodType<Item[]>, query: Readonly<Record<string, string>> = {}): Promise<Item[]> {
    const items: Item[] = [];
    for await (const pageItems of this.pages(what, segments, page, query)) items.push(...pageItems);
    return items;
  }
}

function tokenOf(credential: ForgeCredential): string {
  if (credential.forge !== 'gitea') throw new ForgeError(`credential ${credential.name} is a ${credential.forge} credential, not a Gitea one`, false);
  const auth = credential.auth();
  if (auth.kind !== 'token') throw new ForgeError(`credential ${credential.name} has no token, which Gitea needs`, false);
  return auth.token;
}

export function createGiteaForge(options: GiteaForgeOptions): Forge {
  const { credential, repository } = options;
  const api = new GiteaApi(credential.baseUrl, tokenOf(credential), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const fullName = `${repository.owner}/${repository.name}`;
  const repo = (...rest: Segment[]): Segment[] => ['repos', repository.owner, repository.name, ...rest];
  const inRepo = (action: string): string => `${action} in ${fullName}`;
  let login: Promise<string> | undefined;

  async function currentUser(): Promise<string> {
    login ??= (async () => {
      const what = 'read the account the token belongs to';
      return api.parse(userSchema, await api.request(what, 'GET', ['user']), what).login;
    })();
    // A failure is not kept: the next call asks again.
    return login.catch((error: unknown) => {
      login = undefined;
      throw error;
    });
  }

  /** Who closed a pull request without merging it: the author of the last `close` event of its timeline. */
  async function closer(number: number): Promise<string | null> {
    let last: string | null = null;
    for await (const page of api.pages(inRepo(`read the timeline of pull request #${number}`), repo('issues', number, 'timeline'), listOf(timelineEventSchema))) {
      for (const event of page) if (event.type === 'close') last = event.user?.login ?? null;
    }
    return last;
  }

  async function toPullRequest(pull: GiteaPullRequest): Promise<PullRequest> {
    const state = pull.merged ? 'merged' : pull.state;
    let closedBy: string | null = null;
    if (state === 'merged') closedBy = pull.merged_by?.login ?? null;
    else if (state === 'closed') closedBy = await closer(pull.number);
    return {
      number: pull.number,
      url: pull.html_url,
      state,
      title: pull.title,
      author: pull.user.login,
      headBranch: pull.head.ref,
      headSha: pull.head.sha,
      baseBranch: pull.base.ref,
      mergeCommitSha: pull.merged ? (pull.merge_commit_sha ?? null) : null,
      closedBy,
      labels: (pull.labels ?? []).map((label) => label.name),
    };
  }

  async function readPullRequest(number: number): Promise<PullRequest> {
    const what = inRepo(`read pull request #${number}`);
    return toPullRequest(api.parse(pullRequestSchema, await api.request(what, 'GET', repo('pulls', number)), what));
  }

  async function findPullRequest(head: string, base: string): Promise<PullRequest | undefined> {
    // Newest first (Gitea's default order); Gitea filters by base only, the head is matched here: a branch of this
    // repository, not a fork's of the same name.
    const what = inRepo(`list the pull requests into ${base}`);
    for await (const page of api.pages(what, repo('pulls'), listOf(pullRequestSchema), { state: 'all', base_branch: base })) {
      const found = page.find((pull) => pull.head.ref === head && pull.head.repo_id === pull.base.repo_id && pull.base.ref === base);
      if (found !== undefined) return toPullRequest(found);
    }
    return undefined;
  }

  async function createPullRequest(input: NewPullRequest): Promise<PullRequest> {
    const what = inRepo(`create the pull request from ${input.head} into ${input.base}`);
    const answer = await api.request(what, 'POST', repo('pulls'), { body: { head: input.head, base: input.base, title: input.title, body: input.body } });
    return toPullRequest(api.parse(pullRequestSchema, answer, what));
  }

  async function addLabels(number: number, labels: readonly string[]): Promise<void> {
    const wanted = [...new Set(labels)];
    if (wanted.length === 0) return;
    const existing = await api.all(inRepo('list the labels'), repo('labels'), listOf(labelSchema));
    const ids: number[] = [];
    for (const name of wanted) {
      const known = existing.find((label) => label.name === name);
      if (known !== undefined) {
        ids.push(known.id);
        continue;
      }
      const what = inRepo(`create the label "${name}"`);
      const created = api.parse(labelSchema, await api.request(what, 'POST', repo('labels'), { body: { name, color: NEW_LABEL_COLOR } }), what);
      ids.push(created.id);
    }
    await api.request(inRepo(`add the labels ${wanted.map((name) => `"${name}"`).join(', ')} to pull request #${number}`), 'POST', repo('issues', number, 'labels'), { body: { labels: ids } });
  }

  async function approve(number: number, body: string): Promise<void> {
    await api.request(inRepo(`approve pull request #${number}`), 'POST', repo('pulls', number, 'reviews'), { body: { event: 'APPROVED', body } });
  }

  function mergedOutcome(pull: PullRequest): MergeOutcome {
    if (pull.mergeCommitSha === null) throw new ForgeError(`Gitea says pull request #${pull.number} in ${fullName} is merged but names no merge commit`, true);
    return { merged: true, mergeCommitSha: pull.mergeCommitSha };
  }

  async function merge(number: number, request: MergeRequest): Promise<MergeOutcome> {
    const before = await readPullRequest(number);
    if (before.state === 'merged') return mergedOutcome(before);
    if (before.state === 'closed') return { merged: false, reason: `pull request #${number} is closed` };
    const what = inRepo(`merge pull request #${number} (${request.method})`);
    // 405: not allowed now (checks, approvals, not mergeable yet); 409: conflict or head moved; 404: closed meanwhile.
    const answer = await api.request(what, 'POST', repo('pulls', number, 'merge'), {
      body: { Do: request.method, MergeTitleField: request.title, MergeMessageField: request.message, head_commit_id: request.headSha },
      accept: [404, 405, 409],
    });
    const after = await readPullRequest(number);
    if (after.state === 'merged') return mergedOutcome(after);
    if (answer.status >= 200 && answer.status < 300) throw new ForgeError(`Gitea accepted to ${what} but the pull request is not merged`, true, answer.status);
    if (after.state === 'closed') return { merged: false, reason: `pull request #${number} is closed` };
    return { merged: false, reason: `Gitea refused (${answer.status}): ${answer.message ?? 'no reason given'}` };
  }

  async function comment(number: number, body: string): Promise<void> {
    await api.request(inRepo(`comment on pull request #${number}`), 'POST', repo('issues', number, 'comments'), { body: { body } });
  }

  async function close(number: number, closingComment?: string): Promise<void> {
    if (closingComment !== undefined) await comment(number, closingComment);
    await api.request(inRepo(`close pull request #${number}`), 'PATCH', repo('pulls', number), { body: { state: 'closed' } });
  }

  async function commitChecks(sha: string): Promise<CommitCheck[]> {
    const statuses = await api.all(inRepo(`read the commit statuses of ${sha}`), repo('commits', sha, 'status'), combinedStatusSchema);
    return statuses.map((status) => ({
      name: status.context,
      // A state newer than this adapter is not taken for success.
      state: COMMIT_STATES[status.status] ?? 'pending',
      source: 'status',
      description: oneLine(status.description ?? ''),
      url: status.target_url ? status.target_url : null,
    }));
  }

  async function requiredChecks(branch: string): Promise<string[] | undefined> {
    // The branch, unlike /branch_protections/{rule}, carries the rule Gitea applies to it (rules are glob patterns)
    // and is readable without admin rights.
    const what = inRepo(`read the protection of branch ${branch}`);
    const answer = await api.request(what, 'GET', repo('branches', branch), { accept: [403] });
    if (answer.status === 403) return undefined;
    const found = api.parse(branchSchema, answer, what);
    if (!found.protected || !found.enable_status_check) return [];
    const contexts = found.status_check_contexts ?? [];
    return contexts.length === 0 ? ['*'] : contexts;
  }

  async function commitParents(sha: string): Promise<string[]> {
    const what = inRepo(`read commit ${sha}`);
    // Without the diff statistics, signature verification and file list Gitea computes by default.
    const answer = await api.request(what, 'GET', repo('git', 'commits', sha), { query: { stat: 'false', verification: 'false', files: 'false' } });
    return (api.parse(commitSchema, answer, what).parents ?? []).map((parent) => parent.sha);
  }

  async function gitCredentials(): Promise<GitCredentials> {
    // Gitea takes a token as the password of HTTP basic auth, with its owner's login as the user name.
    return { username: await currentUser(), password: api.token };
  }

  return {
    kind: 'gitea',
    repository,
    currentUser,
    gitCredentials,
    findPullRequest,
    getPullRequest: readPullRequest,
    createPullRequest,
    addLabels,
    approve,
    merge,
    comment,
    close,
    commitChecks,
    requiredChecks,
    commitParents,
  };
}
