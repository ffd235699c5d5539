/**
 * Bare repositories of target branches kept by this process between landings, one per repository URL and branch,
 * in one folder of the work root named after the process (`wpa-git-<owner>-cache-*`, removed with the other work
 * folders once the process is gone). A deploy, a revert or a proposal fetches into its branch's repository instead
 * of cloning: after the first time a fetch with nothing new runs four processes and writes a few files, where a
 * clone runs seven and writes thirty. Operations on one repository run one at a time; different ones in parallel.
 *
 * Nothing is trusted from an earlier use but the objects and, for a caller that asks for it, a tip fetched or
 * pushed moments ago (a landing then pushes with that tip as lease and fetches when the push is refused), or a fetch
 * handed over by the operation that made it (a new patch's read, to its tests: taken once): every other operation
 * fetches the branch first and reads the tip and the trailers from what it fetched; scratch indexes are made afresh
 * and removed. A repository whose git run failed (a killed fetch may leave a lock file behind) is thrown away and
 * fetched again by its next user.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { GitCommandError, GitError, OperationAbortedError, RefNotFoundError } from './errors';
import { type GitOptions, gitText, repoUrlPolicyOf, runGit } from './git-cli';
import { type BranchTip, createWorkDir, fetchBranchTip, fetchDepth, fetchedBranchTip, fetchRef, trackingRef, treeWithDiff } from './repo';
import { assertRepoUrl } from './repo-url';
import { dropOldest } from '../util/drop-oldest';
import { assertBranchName } from './validate';

/** Repositories kept per work root unless configured (GIT_CACHE_MAX_REPOS); the least recently used idle one is removed beyond that. */
const DEFAULT_MAX_CACHED_REPOS = 512;

/** treeWithDiff in a cached repository, made once per commit and diff while the repository is kept (a deploy reuses the tests' tree). */
export type CachedTreeWithDiff = (commit: string, diff: string, options: GitOptions) => Promise<string>;

/** A cached repository in use, its branch fetched into trackingRef(branch). */
export interface CachedBranch {
  gitDir: string;
  /** Fetches the branch again (it moved). */
  refetch(): Promise<void>;
  /** True when the tip is what an earlier operation fetched or pushed: no fetch was made for this one. */
  fromEarlierOperation: boolean;
  /** The branch's tip as last fetched or pushed, when known (else trackingRef(branch) holds it). */
  tip: () => string | undefined;
  /** Records a commit this operation pushed to the branch as its tip. */
  pushed(commitSha: string): void;
  treeWithDiff: CachedTreeWithDiff;
  /** fetchBranchTip of another branch (e.g. a pull request's head) into the same repository. */
  otherBranchTip(branch: string, trailer: { key: string; value: string }): Promise<BranchTip | undefined>;
}

interface CachedRepo {
  dir: string;
  /** The last operation queued on it: the next one starts when it settles. */
  queue: Promise<unknown>;
  users: number;
  lastUsed: number;
  /** Whether the branch was fetched into it (later fetches need no depth: the history is already cut). */
  fetched: boolean;
  /** When the branch's tip was last known (fetched, or pushed by us); 0 if never. */
  knownAt: number;
  /** That tip, when known without reading trackingRef(branch): FETCH_HEAD of the last fetch, or our last push. */
  tip: string | undefined;
  /** Whether the last operation handed its fetch (the tip known at knownAt) over and nobody has taken it. */
  handedOver: boolean;
  /** Trees made of a commit with a diff applied, by commit and the diff's SHA-256; gone with the repository's files. */
  trees: Map<string, string>;
}

/** Which tip known from an earlier operation an operation starts from instead of fetching. */
export interface TipReuse {
  /** A tip fetched or pushed less than this long ago (the caller must treat it as possibly behind). */
  knownWithinMs?: number;
  /** The fetch the previous operation on the branch handed over, less than this long ago. */
  handedOverWithinMs?: number;
  /** Hands this operation's fetch over to the next operation on the branch, which takes it or lets it go. */
  handOver?: boolean;
}

/** Trees remembered per repository: a branch sees a few patches at a time. */
const MAX_TREES_PER_REPO = 32;

/**
 * Whether the repository is kept after this error: git's answers (no such branch, a diff that does not apply, a
 * refused push) leave it as it was; a failed, timed-out or killed git run may not, nor may anything unforeseen.
 */
function leavesRepoIntact(error: unknown): boolean {
  return error instanceof GitError && !(error instanceof GitCommandError) && !(error instanceof OperationAbortedError);
}

/** Whether `reuse` allows the tip the repository's last fetch or push left. */
function reusable(repo: CachedRepo, reuse: TipReuse): boolean {
  const age = Date.now() - repo.knownAt;
  if (reuse.knownWithinMs !== undefined && age < reuse.knownWithinMs) return true;
  return reuse.handedOverWithinMs !== undefined && repo.handedOver && age < reuse.handedOverWithinMs;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** What is known of a repository's contents, forgotten when its files go. */
function forget(repo: CachedRepo): void {
  repo.fetched = false;
  repo.knownAt = 0;
  repo.tip = undefined;
  repo.handedOver = false;
  repo.trees.clear();
}

export class RepoCache {
  private readonly repos = new Map<string, CachedRepo>();
  /** Repositories being removed, by key: a new user of the key waits for the removal first. */
  private readonly removals = new Map<string, Promise<void>>();
  private root: Promise<string> | undefined;

  constructor(
    private readonly workRoot: string,
    public maxRepos = DEFAULT_MAX_CACHED_REPOS,
  ) {}

  private rootDir(): Promise<string> {
    this.root ??= createWorkDir(this.workRoot, 'cache');
    return this.root;
  }

  /**
   * Runs `use` on the repository of `branch` of `repoUrl` after fetching the branch into trackingRef(branch), or
   * without a fetch when `reuse` allows the tip an earlier operation left (see fromEarlierOperation). Nobody else
   * uses the repository until `use` settles.
   */
  async withBranch<T>(repoUrl: string, branch: string, options: GitOptions, use: (cached: CachedBranch) => Promise<T>, reuse: TipReuse = {}): Promise<T> {
    const key = createHash('sha256').update(`${repoUrl}\0${branch}`).digest('hex').slice(0, 32);
    const root = await this.rootDir();
    for (let removal = this.removals.get(key); removal; removal = this.removals.get(key)) await removal;
    let repo = this.repos.get(key);
    if (!repo) {
      repo = { dir: path.join(root, key), queue: Promise.resolve(), users: 0, lastUsed: 0, fetched: false, knownAt: 0, tip: undefined, handedOver: false, trees: new Map() };
      this.repos.set(key, repo);
    }
    const held = repo;
    held.users += 1;
    const run = held.queue.then(async () => {
      try {
        const refetch = (): Promise<void> => this.fetchBranch(held, repoUrl, branch, options);
        const otherBranchTip = async (other: string, trailer: { key: string; value: string }): Promise<BranchTip | undefined> => {
          // Its shallow fetch cuts the history of commits it shares with the branch: the next fetch deepens again.
          held.fetched = false;
          return fetchBranchTip(held.dir, repoUrl, other, trailer, options);
        };
        await this.prepare(held, root, options);
        const fromEarlierOperation = held.fetched && reusable(held, reuse);
        held.handedOver = false;
        if (!fromEarlierOperation) await refetch();
        held.handedOver = reuse.handOver === true;
        return await use({
          gitDir: held.dir,
          refetch,
          fromEarlierOperation,
          tip: () => held.tip,
          pushed: (commitSha) => {
            held.tip = commitSha;
            held.knownAt = Date.now();
          },
          treeWithDiff: async (commit, diff, treeOptions) => {
            const treeKey = `${commit}\0${createHash('sha256').update(diff).digest('hex')}`;
            const known = held.trees.get(treeKey);
            if (known !== undefined) return known;
            const tree = await treeWithDiff(held.dir, commit, diff, treeOptions);
            held.trees.set(treeKey, tree);
            dropOldest(held.trees, MAX_TREES_PER_REPO);
            return tree;
          },
          otherBranchTip,
        });
      } catch (error) {
        if (!leavesRepoIntact(error)) await this.discard(held);
        throw error;
      }
    });
    held.queue = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      held.users -= 1;
      held.lastUsed = Date.now();
      await this.evictBeyondLimit();
    }
  }

  /** An empty bare repository at the entry's folder unless one is there (the work root may have been emptied). */
  private async prepare(repo: CachedRepo, root: string, options: GitOptions): Promise<void> {
    if (await exists(path.join(repo.dir, 'HEAD'))) return;
    forget(repo);
    await rm(repo.dir, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    await mkdir(repo.dir);
    await runGit(repo.dir, ['init', '-q', '--bare', '--template='], options);
  }

  private async fetchBranch(repo: CachedRepo, repoUrl: string, branch: string, options: GitOptions): Promise<void> {
    const depth = repo.fetched ? [] : [`--depth=${fetchDepth(options)}`];
    const args = ['fetch', '-q', '--no-tags', ...depth, '--', repoUrl, `+refs/heads/${branch}:${trackingRef(branch)}`];
    repo.tip = undefined;
    try {
      await fetchRef(repo.dir, args, repoUrl, branch, options);
    } catch (error) {
      // The branch is gone: a tracking ref left from before must not be mistaken for it.
      if (error instanceof RefNotFoundError) await runGit(repo.dir, ['update-ref', '-d', trackingRef(branch)], options);
      throw error;
    }
    repo.fetched = true;
    repo.knownAt = Date.now();
    repo.tip = await fetchedBranchTip(repo.dir);
  }

  /** Removes a repository's files (its next user makes it again); called inside its queue. */
  private async discard(repo: CachedRepo): Promise<void> {
    forget(repo);
    await rm(repo.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  private async evictBeyondLimit(): Promise<void> {
    while (this.repos.size > this.maxRepos) {
      const idle = [...this.repos].filter(([, repo]) => repo.users === 0).sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
      const [victim] = idle;
      if (!victim) return;
      const [key, repo] = victim;
      this.repos.delete(key);
      // Renamed first, so the folder is free at once for a new user of the key; then removed.
      const removal = rename(repo.dir, `${repo.dir}-evicted`)
        .then(() => rm(`${repo.dir}-evicted`, { recursive: true, force: true, maxRetries: 3 }))
        .catch(() => rm(repo.dir, { recursive: true, force: true, maxRetries: 3 }))
        .finally(() => this.removals.delete(key));
      this.removals.set(key, removal);
      await removal;
    }
  }
}

const caches = new Map<string, RepoCache>();

/** The repository cache of a work root, shared by every landing of this process in it. */
export function repoCacheOf(workRoot: string): RepoCache {
  const resolved = path.resolve(workRoot);
  let cache = caches.get(resolved);
  if (!cache) {
    cache = new RepoCache(resolved);
    caches.set(resolved, cache);
  }
  return cache;
}

/** A branch's tip fetched into its cached repository: objects to read and trees to make (in a scratch index), no work tree. */
export interface CachedTip {
  gitDir: string;
  commitSha: string;
  treeWithDiff: CachedTreeWithDiff;
}

/**
 * Runs `use` on the tip of `branch` of `repoUrl`, fetched into the branch's cached repository of `workRoot` (the
 * one its deploys and reverts land from, so they find the objects there) unless `reuse` allows an earlier
 * operation's. Nobody else uses it until `use` settles.
 */
export async function atCachedBranchTip<T>(repoUrl: string, branch: string, workRoot: string, options: GitOptions, use: (tip: CachedTip) => Promise<T>, reuse: TipReuse = {}): Promise<T> {
  assertRepoUrl(repoUrl, repoUrlPolicyOf(options));
  assertBranchName(branch);
  return repoCacheOf(workRoot).withBranch(repoUrl, branch, options, async ({ gitDir, tip, treeWithDiff }) =>
    use({ gitDir, commitSha: tip() ?? (await gitText(gitDir, ['rev-parse', '--verify', `${trackingRef(branch)}^{commit}`], options)), treeWithDiff }),
    reuse,
  );
}

/** Sets how many repositories the cache of a work root keeps (the worker's GIT_CACHE_MAX_REPOS). */
export function limitRepoCache(workRoot: string, maxRepos: number): void {
  repoCacheOf(workRoot).maxRepos = maxRepos;
}
