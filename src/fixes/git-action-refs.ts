/**
 * Resolves action refs (`owner/repo@v4`) to commit SHAs and version tags with `git ls-remote`, once per action
 * repository, before fixing (fixes never do I/O). The listing of a repository is kept for a while in a bounded
 * cache, so a long-running service asks each action repository at most once per TTL.
 */
import os from 'node:os';
import { type ActionRefLookup, jobsOf, stepsOf, type WorkflowFile } from '../analysis/rule';
import { unpinnedActionRule } from '../analysis/rules/security/unpinned-action';
import { hasExpression, usesOf } from '../analysis/security-sites';
import type { Config } from '../config';
import { CommandStartError, GitTimeoutError } from '../git/errors';
import { gitText } from '../git/git-cli';
import { classifyRepoUrl } from '../git/repo-url';
import { dropOldest } from '../util/drop-oldest';
import { unresolvedActionRefs } from './action-refs';

export interface ActionRefRequest {
  owner: string;
  repo: string;
  ref: string;
}

export interface GitActionRefOptions {
  /** Where action repositories live: `<baseUrl>/<owner>/<repo>` (https://github.com, a mirror, or a local folder). */
  baseUrl: string;
  /** Time limit of one `git ls-remote`, default 20 s. */
  timeoutMs?: number;
  /** How many `git ls-remote` run at once, default 4. */
  concurrency?: number;
  /** Default: one cache shared by the process. */
  cache?: RemoteRefCache;
}

/** The tags and branches of one repository: tag names to the commit they point at (peeled), branch names to their head. */
export interface RemoteRefs {
  tags: ReadonlyMap<string, string>;
  heads: ReadonlyMap<string, string>;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_CONCURRENCY = 4;
const FULL_SHA = /^[0-9a-f]{40}$/i;
const ABBREVIATED_SHA = /^[0-9a-f]{7,39}$/i;
/** GitHub's rules for owner names; repository names without `..` or a leading `.` or `-`, so no path tricks. */
const SAFE_OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const SAFE_REPO = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
/** `v4`, `4.1`, `v4.2.2`, `v1.0.0-beta.1`: the version tags a pin comment names. */
const VERSION_TAG = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?$/;

/**
 * Listings by repository URL, each kept for `ttlMs`; the oldest go when there are more than `maxEntries`. A
 * listing still being fetched is shared by everyone who asks for it; a failed one is not kept.
 */
export class RemoteRefCache {
  private readonly entries = new Map<string, { at: number; refs: Promise<RemoteRefs> }>();

  constructor(
    private readonly maxEntries = 1_000,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(url: string, list: () => Promise<RemoteRefs>): Promise<RemoteRefs> {
    const cached = this.entries.get(url);
    if (cached !== undefined && this.now() - cached.at < this.ttlMs) return cached.refs;
    this.entries.delete(url);
    const refs = list();
    refs.catch(() => {
      if (this.entries.get(url)?.refs === refs) this.entries.delete(url);
    });
    this.entries.set(url, { at: this.now(), refs });
    dropOldest(this.entries, this.maxEntries);
    return refs;
  }
}

const sharedCache = new RemoteRefCache();

/** Why `owner/repo` must not be turned into a URL, or undefined. */
function unsafeNameReason(owner: string, repo: string): string | undefined {
  if (!SAFE_OWNER.test(owner)) return `\`${owner}\` is not a valid GitHub owner name`;
  if (!SAFE_REPO.test(repo) || repo.includes('..')) return `\`${repo}\` is not a valid GitHub repository name`;
  return undefined;
}

/** Parses `git ls-remote` output; for annotated tags the peeled line (`^{}`, the commit) wins over the tag object. */
export function parseLsRemote(output: string): RemoteRefs {
  const tags = new Map<string, string>();
  const peeled = new Map<string, string>();
  const heads = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [sha = '', name = ''] = line.trim().split('\t');
    if (!FULL_SHA.test(sha)) continue;
    if (name.startsWith('refs/heads/')) heads.set(name.slice('refs/heads/'.length), sha.toLowerCase());
    else if (name.startsWith('refs/tags/') && name.endsWith('^{}')) peeled.set(name.slice('refs/tags/'.length, -3), sha.toLowerCase());
    else if (name.startsWith('refs/tags/')) tags.set(name.slice('refs/tags/'.length), sha.toLowerCase());
  }
  for (const [name, sha] of peeled) tags.set(name, sha);
  return { tags, heads };
}

interface Version {
  name: string;
  parts: number[];
  prerelease: boolean;
}

function parseVersion(name: string): Version | undefined {
  const match = VERSION_TAG.exec(name);
  if (match === null) return undefined;
  const parts = [match[1], match[2], match[3]].filter((part): part is string => part !== undefined).map(Number);
  return { name, parts, prerelease: match[4] !== undefined };
}

/**
 * The version tag to name in a pin comment for `sha`: the most precise one (`v4.2.2` over `v4.2` over `v4`),
 * preferring tags that extend the ref (`v4` → `v4.*`), releases over pre-releases, then the highest.
 */
export function versionFor(refs: RemoteRefs, sha: string, ref: string): string | undefined {
  const wanted = parseVersion(ref);
  const extendsRef = (version: Version): boolean => wanted !== undefined && wanted.parts.every((part, index) => version.parts[index] === part);
  const candidates = [...refs.tags].flatMap(([name, target]) => {
    const version = target === sha ? parseVersion(name) : undefined;
    return version === undefined ? [] : [version];
  });
  const score = (version: Version): number[] => [Number(extendsRef(version)), version.parts.length, Number(!version.prerelease), ...version.parts];
  const better = (a: Version, b: Version): boolean => {
    const [left, right] = [score(a), score(b)];
    for (let index = 0; index < Math.max(left.length, right.length); index += 1) {
      const difference = (left[index] ?? -1) - (right[index] ?? -1);
      if (difference !== 0) return difference > 0;
    }
    return a.name < b.name;
  };
  const best = candidates.reduce<Version | undefined>((kept, version) => (kept === undefined || better(version, kept) ? version : kept), undefined);
  // A tag that is no version (`release-2024`) still says what was pinned better than nothing.
  return best?.name ?? (refs.tags.get(ref) === sha ? ref : undefined);
}

/** The commit `ref` names in the listing: a tag before a branch (as git resolves names), then a unique SHA prefix. */
export function resolveInListing(refs: RemoteRefs, ref: string): { sha: string; version?: string } | { unresolved: string } {
  let sha: string | undefined;
  if (FULL_SHA.test(ref)) sha = ref.toLowerCase();
  else if (ref.startsWith('refs/tags/')) sha = refs.tags.get(ref.slice('refs/tags/'.length));
  else if (ref.startsWith('refs/heads/')) sha = refs.heads.get(ref.slice('refs/heads/'.length));
  else sha = refs.tags.get(ref) ?? refs.heads.get(ref);
  if (sha === undefined && ABBREVIATED_SHA.test(ref)) {
    const prefix = ref.toLowerCase();
    const matches = new Set([...refs.tags.values(), ...refs.heads.values()].filter((candidate) => candidate.startsWith(prefix)));
    if (matches.size === 1) sha = [...matches][0];
    else if (matches.size > 1) return { unresolved: `the abbreviated SHA \`${ref}\` matches ${matches.size} commits` };
  }
  if (sha === undefined) return { unresolved: `there is no tag or branch \`${ref}\`` };
  const version = versionFor(refs, sha, ref);
  return version === undefined ? { sha } : { sha, version };
}

/** git's protocol name for the base URL, so GIT_ALLOW_PROTOCOL allows that one only; throws for URLs git must not get. */
function gitProtocolOf(baseUrl: string): { allowLocal: boolean } {
  const verdict = classifyRepoUrl(baseUrl, { allowLocal: true });
  if ('problem' in verdict) throw new Error(`ACTIONS_GIT_BASE_URL ${verdict.problem}`);
  return { allowLocal: verdict.kind === 'file' || verdict.kind === 'path' };
}

/** Why an ls-remote failed, in a line a fix note can show. */
function failureReason(error: unknown, timeoutMs: number): string {
  if (error instanceof GitTimeoutError) return `git ls-remote did not answer within ${Math.round(timeoutMs / 1000)} s`;
  if (error instanceof CommandStartError) return 'git is not installed';
  const text = error instanceof Error ? error.message : String(error);
  if (/not found|does not appear to be a git repository|does not exist/i.test(text)) return 'the repository was not found';
  if (/could not resolve host|unable to access|connection|network/i.test(text)) return 'the repository could not be reached (offline?)';
  const firstLine = text.split('\n').find((line) => line.trim() !== '') ?? 'git ls-remote failed';
  return firstLine.slice(0, 200);
}

async function listRemote(url: string, baseUrl: string, timeoutMs: number): Promise<RemoteRefs> {
  const output = await gitText(os.tmpdir(), ['ls-remote', '--tags', '--heads', '--', url], {
    timeoutMs,
    repoUrlPolicy: gitProtocolOf(baseUrl),
    // No credentials of any kind: action repositories are public, and a token must never reach a mirror.
    config: { 'credential.helper': '' },
    // Outside any repository, so no repository config (url.insteadOf, credential helpers) applies.
    env: { GIT_DIR: '/dev/null' },
  });
  return parseLsRemote(output);
}

/** Runs `work` over `items` with at most `limit` at once. */
async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Lists each repository of `refs` once and answers lookups from the listings: any ref of a listed repository
 * resolves; repositories that were not asked for, could not be listed or have unsafe names stay unresolved with
 * the reason. Never throws for an unreachable repository; throws for a base URL git must not be given.
 */
export async function resolveActionRefs(refs: readonly ActionRefRequest[], options: GitActionRefOptions): Promise<ActionRefLookup> {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  gitProtocolOf(baseUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cache = options.cache ?? sharedCache;
  // GitHub names are case-insensitive, so `Actions/Checkout` and `actions/checkout` share one listing.
  const keyOf = (owner: string, repo: string): string => `${owner}/${repo}`.toLowerCase();
  const listings = new Map<string, RemoteRefs | { unresolved: string }>();
  const repositories = new Map<string, { owner: string; repo: string }>();
  for (const { owner, repo } of refs) {
    const unsafe = unsafeNameReason(owner, repo);
    if (unsafe !== undefined) listings.set(keyOf(owner, repo), { unresolved: `${owner}/${repo}: ${unsafe}` });
    else repositories.set(keyOf(owner, repo), { owner, repo });
  }
  await forEachBounded([...repositories], options.concurrency ?? DEFAULT_CONCURRENCY, async ([key, { owner, repo }]) => {
    const url = `${baseUrl}/${owner}/${repo}`;
    try {
      listings.set(key, await cache.get(`${baseUrl}/${key}`, () => listRemote(url, baseUrl, timeoutMs)));
    } catch (error) {
      listings.set(key, { unresolved: `${owner}/${repo}: ${failureReason(error, timeoutMs)}` });
    }
  });
  return {
    resolve(owner, repo, ref) {
      const listing = listings.get(keyOf(owner, repo));
      if (listing === undefined) return { unresolved: `${owner}/${repo} was not looked up` };
      if ('unresolved' in listing) return listing;
      const resolved = resolveInListing(listing, ref);
      return 'unresolved' in resolved ? { unresolved: `${owner}/${repo}: ${resolved.unresolved}` } : resolved;
    },
  };
}

/** Each remote `uses:` ref of the files that is not a full commit SHA, once: what pinning them needs resolved. */
export function unpinnedActionRefs(files: readonly WorkflowFile[]): ActionRefRequest[] {
  const requests = new Map<string, ActionRefRequest>();
  for (const file of files) {
    for (const owner of [...stepsOf(file), ...jobsOf(file)]) {
      const ref = usesOf(owner.node)?.ref;
      if (ref?.kind !== 'remote' || !ref.owner || !ref.repo || !ref.ref || FULL_SHA.test(ref.ref) || hasExpression(ref.raw)) continue;
      requests.set(`${ref.owner}/${ref.repo}@${ref.ref}`, { owner: ref.owner, repo: ref.repo, ref: ref.ref });
    }
  }
  return [...requests.values()];
}

/**
 * The action ref lookup for fixing `files` (the CLI's `wpa fix` and the service call this): it lists the action
 * repositories only when unpinned-action fixes are selected (`ruleIds` absent or naming it) and there is a ref to pin.
 */
export async function actionRefLookupFor(
  files: readonly WorkflowFile[],
  settings: Pick<Config, 'actions'>,
  selection: { ruleIds?: readonly string[] } = {},
): Promise<ActionRefLookup> {
  if (selection.ruleIds !== undefined && !selection.ruleIds.includes(unpinnedActionRule.id)) return unresolvedActionRefs;
  const refs = unpinnedActionRefs(files);
  return refs.length === 0 ? unresolvedActionRefs : resolveActionRefs(refs, { baseUrl: settings.actions.gitBaseUrl });
}
