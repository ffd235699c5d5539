/**
 * Which expression contexts carry text an outside attacker chooses, which triggers run with the base repository's
 * secrets and write token although outsiders can cause them, and how actions/checkout guards fork code. Shared by
 * the script-injection, env-file-injection, untrusted-checkout, dangerous-trigger and self-hosted-runner-on-pr
 * rules. GitHub facts as of the reviewed date (from knowledge and GitHub's public changelog, not fetched).
 *
 * Only contexts listed here are treated as attacker-controlled: numbers, SHAs, logins (restricted character set),
 * repository names, `github.repository`, `github.event.pull_request.number`, base refs and the like are safe to
 * expand, and `inputs.*`, `env.*` and `steps.*.outputs` are unknown (the rules follow them only where a workflow
 * file itself shows attacker data flowing into them).
 */
export const reviewed = '2026-11-24';

/** A context path whose value an outsider controls, and the events whose payload fills it. */
export interface AttackerControlledContext {
  /** Lower-case dotted path; `*` stands for any array index or property. */
  path: string;
  /** Events whose payload carries the value; under any other event it expands to an empty string. */
  events: readonly string[];
}

const pullRequestEvents = ['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment'];
const issueEvents = ['issues', 'issue_comment'];
const commentEvents = ['issue_comment', 'pull_request_review_comment', 'commit_comment', 'discussion_comment'];
const discussionEvents = ['discussion', 'discussion_comment'];
/** Every event with an `edited` activity whose payload carries the previous title or body under `changes`. */
const editedEvents = [...pullRequestEvents, ...issueEvents, ...discussionEvents];

function fields(prefix: string, names: readonly string[], events: readonly string[]): AttackerControlledContext[] {
  return names.map((name) => ({ path: `${prefix}.${name}`, events }));
}

const commitFields = ['message', 'author.email', 'author.name', 'committer.email', 'committer.name'];

/**
 * Free text from issues, pull requests, comments, commits, wiki pages and branch names. Branch names count: git
 * allows `$(...)`, backquotes and `;` in them. Based on GitHub Security Lab's untrusted-input list, actionlint's
 * untrusted-input table and the webhook payload documentation.
 */
export const attackerControlledContexts: readonly AttackerControlledContext[] = [
  ...fields('github.event.issue', ['title', 'body'], issueEvents),
  ...fields(
    'github.event.pull_request',
    ['title', 'body', 'head.ref', 'head.label', 'head.repo.default_branch', 'head.repo.description', 'head.repo.homepage'],
    pullRequestEvents,
  ),
  { path: 'github.head_ref', events: pullRequestEvents },
  { path: 'github.event.comment.body', events: commentEvents },
  { path: 'github.event.review.body', events: ['pull_request_review'] },
  { path: 'github.event.review_comment.body', events: ['pull_request_review_comment'] },
  ...fields('github.event.discussion', ['title', 'body'], discussionEvents),
  ...fields('github.event.changes', ['title.from', 'body.from'], editedEvents),
  { path: 'github.event.pages.*.page_name', events: ['gollum'] },
  ...fields('github.event.commits.*', commitFields, ['push']),
  ...fields('github.event.head_commit', commitFields, ['push']),
  ...fields('github.event.merge_group.head_commit', commitFields, ['merge_group']),
  ...fields(
    'github.event.workflow_run',
    [
      'head_branch',
      'display_title',
      'head_repository.description',
      'pull_requests.*.head.ref',
      ...commitFields.map((name) => `head_commit.${name}`),
    ],
    ['workflow_run'],
  ),
];

/**
 * Events any GitHub user can cause that run with the base repository's secrets and a token that may write: an
 * injection there is a repository takeover, not just a broken build.
 */
export const privilegedTriggers: readonly string[] = [
  'pull_request_target',
  'workflow_run',
  'issue_comment',
  'issues',
  'discussion',
  'discussion_comment',
];

/** Triggers whose purpose is to act on fork pull requests with privileges: the pwn-request triggers. */
export const dangerousTriggers: readonly string[] = ['pull_request_target', 'workflow_run'];

/** Triggers under which a checkout of pull-request code runs with privileges (a PR comment can ask for it too). */
export const untrustedCheckoutTriggers: readonly string[] = ['pull_request_target', 'workflow_run', 'issue_comment'];

/** Triggers that run jobs for pull requests opened from forks, on whatever runner the job names. */
export const forkPullRequestTriggers: readonly string[] = pullRequestEvents;

/** Contexts naming the commit of a pull request or of the run that triggered a workflow_run: fork code by SHA. */
export const pullRequestCommitContexts: readonly string[] = [
  'github.event.pull_request.head.sha',
  'github.event.pull_request.merge_commit_sha',
  'github.event.workflow_run.head_sha',
  'github.event.workflow_run.head_commit.id',
  'github.event.workflow_run.pull_requests.*.head.sha',
];

/** Contexts naming the fork repository itself; checking it out fetches fork code whatever the ref. */
export const forkRepositoryContexts: readonly string[] = [
  'github.event.pull_request.head.repo.full_name',
  'github.event.pull_request.head.repo.clone_url',
  'github.event.pull_request.head.repo.ssh_url',
  'github.event.pull_request.head.repo.git_url',
  'github.event.workflow_run.head_repository.full_name',
];

/**
 * Contexts that only name a branch; in the base repository such a branch is trusted, so they matter only together
 * with one of the fork repository contexts.
 */
export const pullRequestBranchContexts: readonly string[] = [
  'github.head_ref',
  'github.event.pull_request.head.ref',
  'github.event.workflow_run.head_branch',
];

/**
 * Conditions that restrict a job or step to pull requests from the base repository itself (its branches are pushed
 * by people with write access), as `left == right` pairs or as the `fork` flag that must be false.
 */
export const sameRepositoryComparisons: ReadonlyArray<readonly [string, string]> = [
  ['github.event.pull_request.head.repo.full_name', 'github.repository'],
  ['github.event.workflow_run.head_repository.full_name', 'github.repository'],
  ['github.event.pull_request.head.repo.id', 'github.repository_id'],
];
export const forkFlagContexts: readonly string[] = [
  'github.event.pull_request.head.repo.fork',
  'github.event.workflow_run.head_repository.fork',
];

/**
 * UNVERIFIED: the rule author recorded that actions/checkout refuses fork pull-request code under
 * pull_request_target and PR-triggered workflow_run unless `allow-unsafe-pr-checkout: true` is set (fork repository,
 * `refs/pull/<n>/head|merge`, or the fork head/merge SHA), shipped in v7.0.0 (2026-06-18) and backported to v2-v6
 * (not v1) on 2026-07-20, so floating major tags v2 and later and exact versions from these releases on would be
 * guarded. This could not be checked against the actions/checkout releases offline, so untrusted-checkout only
 * lowers such findings from critical to high and never drops them.
 */
export const checkoutForkGuard = {
  input: 'allow-unsafe-pr-checkout',
  firstGuardedMajorTag: 2,
  /** First guarded exact version per major line [major, minor, patch]; majors not listed have no guarded release known here. */
  firstGuardedVersions: [
    [4, 4, 0],
    [5, 1, 0],
    [6, 1, 0],
    [7, 0, 0],
  ] as ReadonlyArray<readonly [number, number, number]>,
} as const;

const segmentCache = new Map<string, string[]>();

function segmentsOf(path: string): string[] {
  let segments = segmentCache.get(path);
  if (!segments) {
    segments = path.split('.');
    segmentCache.set(path, segments);
  }
  return segments;
}

function segmentMatches(pattern: string, actual: string): boolean {
  return pattern === '*' || actual === '*' || pattern === actual;
}

/** True when `path` (lower-case segments, `*` for any index) names the context `pattern` or something inside it. */
export function pathWithin(path: readonly string[], pattern: string): boolean {
  const wanted = segmentsOf(pattern);
  return path.length >= wanted.length && wanted.every((segment, at) => segmentMatches(segment, path[at] ?? ''));
}

/** True when `path` names an object that contains the context `pattern` (e.g. `github.event` for the issue title). */
export function pathContains(path: readonly string[], pattern: string): boolean {
  const wanted = segmentsOf(pattern);
  return path.length < wanted.length && path.every((segment, at) => segmentMatches(wanted[at] ?? '', segment));
}

/** What an expression context holds of attacker-controlled data. */
export interface AttackerControlledMatch {
  /** `value`: the context is such text; `container`: an object or array holding some (e.g. `github.event`). */
  kind: 'value' | 'container';
  /** The attacker-controlled path matched (for a container, the first one it holds). */
  path: string;
  /** Events under which the context holds that data. */
  events: ReadonlySet<string>;
}

/** How a context path relates to attacker-controlled data, or undefined when it holds none. */
export function attackerControlledMatch(path: readonly string[]): AttackerControlledMatch | undefined {
  const value = attackerControlledContexts.find((context) => pathWithin(path, context.path));
  if (value) return { kind: 'value', path: value.path, events: new Set(value.events) };
  const contained = attackerControlledContexts.filter((context) => pathContains(path, context.path));
  const first = contained[0];
  if (first === undefined) return undefined;
  return {
    kind: 'container',
    path: first.path,
    events: new Set(contained.flatMap((context) => context.events)),
  };
}
