/**
 * Action refs for fixes that pin or bump `uses:`: resolved before fixing, because fixes never do I/O. The resolver
 * lists each action repository's tags and branches once with `git ls-remote` (anonymous, through the hardened git
 * runner of src/git), and answers from that listing.
 */
import { tmpdir } from 'node:os';
import { runGit } from '../git/git-cli';
import { repoUrlProblem } from '../git/repo-url';
import { type ActionRefLookup, jobsOf, stepsOf, type WorkflowFile } from '../analysis/rule';
import { usesOf } from '../analysis/security-sites';

/** The lookup when no resolver is configured: every ref stays unresolved, so fixes that need one are skipped. */
export const unresolvedActionRefs: ActionRefLookup = {
  resolve: () => ({ unresolved: 'action refs are not resolved: no resolver configured' }),
};

export const DEFAULT_ACTIONS_GIT_BASE_URL = 'https://github.com';
const DEFAULT_TIMEOUT_MS = 20_000;
/** Repositories listed at the same time: enough to overlap network latency, few enough to be polite. */
const PARALLEL_LISTINGS = 4;
/** GitHub owner and repository names; anything else is never put into a URL. */
const REPOSITORY_NAME = /^[A-Za-z0-9_.-]+$/;
const COMMIT_SHA = /^[0-9a-f]{40}$/;
const SEMVER_TAG = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;

export interface ActionRefResolverOptions {
  /** Where `<owner>/<repo>` repositories are listed from (setting ACTIONS_GIT_BASE_URL); default https://github.com. */
  baseUrl?: string;
  /** Time limit of each listing; default 20 s. */
  timeoutMs?: number;
  /** Accept a local base (a path or file:// URL), for tests and mirrors on disk. */
  allowLocal?: boolean;
  signal?: AbortSignal;
}

/** A repository's refs: commit by tag name (annotated tags peeled to their commit) and by branch name. */
interface RefListing {
  tags: Map<string, string>;
  branches: Map<string, string>;
}

/** Parses `git ls-remote --tags --heads` output. */
export function parseLsRemote(output: string): RefListing {
  const tags = new Map<string, string>();
  const branches = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [sha, ref] = line.trim().split(/\s+/);
    if (sha === undefined || ref === undefined || !COMMIT_SHA.test(sha)) continue;
    if (ref.startsWith('refs/heads/')) branches.set(ref.slice('refs/heads/'.length), sha);
    else if (ref.startsWith('refs/tags/') && ref.endsWith('^{}')) peeled.set(ref.slice('refs/tags/'.length, -3), sha);
    else if (ref.startsWith('refs/tags/')) tags.set(ref.slice('refs/tags/'.length), sha);
  }
  for (const [tag, sha] of peeled) tags.set(tag, sha);
  return { tags, branches };
}

/** The semver-looking tag on `sha` with the most components (`v4.2.1` over `v4`), highest first, if any. */
function preciseVersion(listing: RefListing, sha: string): string | undefined {
  const candidates = [...listing.tags].filter(([tag, tagSha]) => tagSha === sha && SEMVER_TAG.test(tag)).map(([tag]) => tag);
  const rank = (tag: string): number[] => {
    const parts = SEMVER_TAG.exec(tag)?.slice(1) ?? [];
    return [parts.filter((part) => part !== undefined).length, ...parts.map((part) => Number(part ?? -1))];
  };
  const compare = (a: string, b: string): number => {
    const [left, right] = [rank(a), rank(b)];
    for (let index = 0; index < left.length; index += 1) {
      const difference = (right[index] ?? 0) - (left[index] ?? 0);
      if (difference !== 0) return difference;
    }
    return 0;
  };
  return candidates.sort(compare)[0];
}

/** What the listing says about one ref. */
export function resolveInListing(listing: RefListing, name: string, ref: string): { sha: string; version?: string } | { unresolved: string } {
  const sha = COMMIT_SHA.test(ref) ? ref : (listing.tags.get(ref) ?? listing.branches.get(ref));
  if (sha === undefined) return { unresolved: `${name} has no tag or branch \`${ref}\`` };
  const version = preciseVersion(listing, sha);
  return version === undefined ? { sha } : { sha, version };
}

/** `owner/repo@ref` of every remote `uses:` of the files: steps, and jobs that call reusable workflows. */
export function remoteActionRefs(files: readonly WorkflowFile[]): Array<{ owner: string; repo: string; ref: string }> {
  const sites = files.flatMap((file) => [...stepsOf(file).map((step) => step.node), ...jobsOf(file).map((job) => job.node)]);
  const refs = new Map<string, { owner: string; repo: string; ref: string }>();
  for (const owner of sites) {
    const site = usesOf(owner);
    const { owner: name, repo, ref } = site?.ref ?? {};
    if (site?.ref.kind !== 'remote' || name === undefined || repo === undefined || ref === undefined) continue;
    refs.set(`${name}/${repo}@${ref}`, { owner: name, repo, ref });
  }
  return [...refs.values()];
}

/**
 * Lists the repositories of every remote `uses:` ref in `files` (each once) and returns a lookup over the result.
 * A repository that cannot be listed (unknown, private, offline, timed out) resolves nothing, with the reason.
 */
export async function preResolveActionRefs(files: readonly WorkflowFile[], options: ActionRefResolverOptions = {}): Promise<ActionRefLookup> {
  const base = (options.baseUrl ?? DEFAULT_ACTIONS_GIT_BASE_URL).replace(/\/+$/, '');
  const policy = { allowLocal: options.allowLocal ?? false };
  const listings = new Map<string, RefListing | { failed: string }>();
  const repositories = [...new Set(remoteActionRefs(files).map(({ owner, repo }) => `${owner}/${repo}`.toLowerCase()))];

  const list = async (name: string): Promise<void> => {
    const [owner = '', repo = ''] = name.split('/');
    const url = `${base}/${owner}/${repo}`;
    const problem = REPOSITORY_NAME.test(owner) && REPOSITORY_NAME.test(repo) ? repoUrlProblem(url, policy) : 'is not an owner/repository name';
    if (problem !== undefined) {
      listings.set(name, { failed: `${url} ${problem}` });
      return;
    }
    try {
      const { stdout } = await runGit(tmpdir(), ['ls-remote', '--tags', '--heads', url], {
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        repoUrlPolicy: policy,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      listings.set(name, parseLsRemote(stdout.toString('utf8')));
    } catch (error) {
      listings.set(name, { failed: `could not list the refs of ${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` });
    }
  };
  for (let start = 0; start < repositories.length; start += PARALLEL_LISTINGS) {
    await Promise.all(repositories.slice(start, start + PARALLEL_LISTINGS).map(list));
  }

  return {
    resolve(owner, repo, ref) {
      const name = `${owner}/${repo}`.toLowerCase();
      const listing = listings.get(name);
      if (listing === undefined) return { unresolved: `${owner}/${repo} was not listed before fixing` };
      return 'failed' in listing ? { unresolved: listing.failed } : resolveInListing(listing, `${owner}/${repo}`, ref);
    },
  };
}
