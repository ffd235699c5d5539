/**
 * Working clones and read-only views of target repositories: checkout, tree reading, diff application and the
 * trailer search that makes deploy and revert idempotent. Every folder this module creates is a unique
 * `wpa-git-<owner>-*` folder inside the caller's workRoot, named after the process that created it.
 */
import { readFile, rm } from 'node:fs/promises';
import path, { basename } from 'node:path';
import picomatch from 'picomatch';
import { createOwnedFolder, removeFoldersOfGoneOwners } from '../process/owned-folders';
import { changedFiles } from './diff-paths';
import { GitCommandError, GitStateError, InvalidInputError, PatchDoesNotApplyError, RefNotFoundError } from './errors';
import { DEFAULT_HISTORY_DEPTH, type GitOptions, gitText, repoUrlPolicyOf, runGit } from './git-cli';
import { assertRepoUrl } from './repo-url';
import { assertBranchName, assertRef, assertTrailerKey, redactCredentials } from './validate';

const WORK_DIR_PREFIX = 'wpa-git-';

/** Named after this process (src/process/owned-folders.ts), so a later worker can remove it once this one is gone. */
export function createWorkDir(workRoot: string, purpose: string): Promise<string> {
  return createOwnedFolder(workRoot, WORK_DIR_PREFIX, purpose);
}

async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Runs `use` in a fresh folder inside workRoot and removes the folder afterwards, whatever happens. */
export async function withWorkDir<T>(workRoot: string, purpose: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await createWorkDir(workRoot, purpose);
  try {
    return await use(dir);
  } finally {
    await removeDir(dir);
  }
}

/** Removes a folder returned by checkout(); refuses folders this module did not create. */
export async function disposeCheckout(dir: string): Promise<void> {
  if (!basename(dir).startsWith(WORK_DIR_PREFIX)) throw new InvalidInputError(`not a work folder of this module: ${dir}`);
  await removeDir(dir);
}

/**
 * Removes the work folders in workRoot whose creating process has ended (killed in the middle of an operation);
 * folders of live processes stay. Returns the removed paths.
 */
export function removeStaleWorkDirs(workRoot: string): Promise<string[]> {
  return removeFoldersOfGoneOwners(workRoot, WORK_DIR_PREFIX, removeDir);
}

/** The remote-tracking ref a branch of `origin` is fetched into. */
export function trackingRef(branch: string): string {
  return `refs/remotes/origin/${branch}`;
}

/**
 * One commit more than the trailer search reads. The k-th commit `git log` shows is at most k-1 parent steps
 * from the tip, so every commit the search returns has its parents in the clone (needed to revert it).
 */
export function fetchDepth(options: GitOptions): number {
  return (options.historyDepth ?? DEFAULT_HISTORY_DEPTH) + 1;
}

/** Runs a clone or fetch of `ref`, turning git's "no such ref" answers into RefNotFoundError. */
export async function fetchRef(dir: string, args: readonly string[], repoUrl: string, ref: string, options: GitOptions): Promise<void> {
  try {
    await runGit(dir, args, options);
  } catch (error) {
    const missing = error instanceof GitCommandError && /couldn't find remote ref|not found in upstream origin/.test(error.stderrTail);
    if (missing) throw new RefNotFoundError(redactCredentials(repoUrl), ref);
    throw error;
  }
}

/** The fetched commit's SHA on the first line of FETCH_HEAD (`<sha><TAB><TAB>branch 'x' of <url>`), if it reads as one. */
const FETCH_HEAD_LINE = /^([0-9a-f]{40}(?:[0-9a-f]{24})?)\t/;

/**
 * The commit a fetch of one branch (`refs/heads/...`, which holds only commits) brought, from the FETCH_HEAD it
 * wrote (git's documented record for scripts) rather than a rev-parse process; undefined if it cannot be read.
 */
export async function fetchedBranchTip(gitDir: string): Promise<string | undefined> {
  return FETCH_HEAD_LINE.exec(await readFile(path.join(gitDir, 'FETCH_HEAD'), 'utf8').catch(() => ''))?.[1];
}

/** Clones `branch` into the empty folder `dir`, checked out at its tip, and returns the tip SHA. */
export async function cloneBranch(dir: string, repoUrl: string, branch: string, options: GitOptions): Promise<string> {
  // --no-local: the depth applies to repositories given as local paths too (git ignores it for URLs).
  // --template= (none): no sample hooks, description or exclude file written into a clone that lives for seconds.
  const args = ['clone', '-q', '--template=', '--no-local', '--no-tags', '--single-branch', `--branch=${branch}`, `--depth=${fetchDepth(options)}`, '--', repoUrl, '.'];
  await fetchRef(dir, args, repoUrl, branch, options);
  return gitText(dir, ['rev-parse', '--verify', 'HEAD'], options);
}

/** Puts the work tree back at HEAD: changed files restored, untracked and ignored ones removed. */
export async function discardChanges(dir: string, options: GitOptions = {}): Promise<void> {
  await runGit(dir, ['reset', '-q', '--hard'], options);
  await runGit(dir, ['clean', '-q', '-ffdx'], options);
}

export interface Checkout {
  dir: string;
  headSha: string;
}

/**
 * A working clone of `branch` at its tip, with the last `historyDepth` commits (enough for the trailer search;
 * deploys re-apply the diff on a moved tip rather than rebasing, so no merge base is needed). The caller
 * removes `dir` with disposeCheckout().
 */
export async function checkout(repoUrl: string, branch: string, workRoot: string, options: GitOptions = {}): Promise<Checkout> {
  assertRepoUrl(repoUrl, repoUrlPolicyOf(options));
  assertBranchName(branch);
  const dir = await createWorkDir(workRoot, 'checkout');
  try {
    return { dir, headSha: await cloneBranch(dir, repoUrl, branch, options) };
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

const FULL_OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Moves a checkout's work tree to `commit` (detached), e.g. to run checks on a patch's deployed commit. */
export async function detachAt(dir: string, commit: string, options: GitOptions = {}): Promise<void> {
  if (!FULL_OBJECT_ID.test(commit)) throw new InvalidInputError(`not a full commit SHA: ${commit}`);
  await runGit(dir, ['checkout', '-q', '--detach', commit], options);
}

/** A local clone (at `ref`, default HEAD), or a remote ref fetched (depth 1) into a temporary folder. */
export type TreeSource = { dir: string; ref?: string } | { repoUrl: string; ref: string; workRoot: string };

/** picomatch globs (dotfiles included, e.g. `.github/**`) or a predicate over repository-relative paths. */
export type PathFilter = string | readonly string[] | ((path: string) => boolean);

export interface TreeListing {
  commitSha: string;
  /** Files (regular and symlinks) matching the filter, sorted; submodules are not listed. */
  paths: string[];
}

export type SkipReason = 'symlink' | 'binary' | 'not-utf8' | 'too-large';

export interface TreeSnapshot {
  commitSha: string;
  /** Regular text files matching the filter, path to content (UTF-8, byte order mark kept). */
  files: Map<string, string>;
  /** Matching files that are not in `files`, and why. */
  skipped: { path: string; reason: SkipReason }[];
}

export interface ReadTreeOptions extends GitOptions {
  /** Larger files are skipped, default 1 MiB. */
  maxFileBytes?: number;
}

interface TreeEntry {
  mode: string;
  sha: string;
  size: number;
  path: string;
}

function toMatcher(filter: PathFilter | undefined): (path: string) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === 'function') return filter;
  if (filter.length === 0) return () => false;
  return picomatch(typeof filter === 'string' ? filter : [...filter], { dot: true });
}

/** Resolves the source to a local repository folder and a commit, and runs `use` on them. */
async function withTree<T>(source: TreeSource, options: GitOptions, use: (dir: string, commitSha: string) => Promise<T>): Promise<T> {
  const ref = source.ref ?? 'HEAD';
  assertRef(ref);
  if ('dir' in source) return use(source.dir, await gitText(source.dir, ['rev-parse', '--verify', `${ref}^{commit}`], options));
  const { repoUrl } = source;
  assertRepoUrl(repoUrl, repoUrlPolicyOf(options));
  return withWorkDir(source.workRoot, 'tree', async (dir) => {
    await runGit(dir, ['init', '-q', '--bare', '--template='], options);
    await fetchRef(dir, ['fetch', '-q', '--no-tags', '--depth=1', '--', repoUrl, ref], repoUrl, ref, options);
    const branchTip = ref.startsWith('refs/heads/') ? await fetchedBranchTip(dir) : undefined;
    return use(dir, branchTip ?? (await gitText(dir, ['rev-parse', '--verify', 'FETCH_HEAD^{commit}'], options)));
  });
}

async function listEntries(dir: string, treeish: string, filter: PathFilter | undefined, options: GitOptions): Promise<TreeEntry[]> {
  const matches = toMatcher(filter);
  const { stdout } = await runGit(dir, ['ls-tree', '-r', '-z', '--long', '--full-tree', treeish], options);
  const entries: TreeEntry[] = [];
  for (const record of stdout.toString('utf8').split('\0')) {
    const parsed = /^(\d+) (\w+) ([0-9a-f]+) +(\d+|-)\t(.*)$/s.exec(record);
    if (!parsed) continue;
    const [, mode = '', type, sha = '', size = '', path = ''] = parsed;
    if (type === 'blob' && matches(path)) entries.push({ mode, sha, size: Number(size), path });
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Paths of the files at a commit, for fileExists checks. */
export async function listFiles(source: TreeSource, pathFilter?: PathFilter, options: GitOptions = {}): Promise<TreeListing> {
  return withTree(source, options, async (dir, commitSha) => ({
    commitSha,
    paths: (await listEntries(dir, commitSha, pathFilter, options)).map((entry) => entry.path),
  }));
}

/** Splits `git cat-file --batch` output into object contents, in request order. */
function parseCatFileBatch(output: Buffer): Buffer[] {
  const contents: Buffer[] = [];
  let offset = 0;
  while (offset < output.length) {
    const headerEnd = output.indexOf(0x0a, offset);
    if (headerEnd < 0) break;
    const size = /^[0-9a-f]+ \w+ (\d+)$/.exec(output.toString('utf8', offset, headerEnd))?.[1];
    if (size === undefined) throw new GitStateError(`unexpected git cat-file output: ${output.toString('utf8', offset, headerEnd)}`);
    const start = headerEnd + 1;
    contents.push(output.subarray(start, start + Number(size)));
    offset = start + Number(size) + 1;
  }
  return contents;
}

/** The snapshot of `entries` (listed at `commitSha`): their text read with one `cat-file --batch`. */
async function snapshotOf(dir: string, commitSha: string, entries: readonly TreeEntry[], options: ReadTreeOptions): Promise<TreeSnapshot> {
  const [snapshot = { files: new Map<string, string>(), skipped: [] }] = await snapshotsOf(dir, [entries], options);
  return { commitSha, ...snapshot };
}

/** The text of several lists of entries, with one `cat-file --batch` reading each blob once. */
async function snapshotsOf(dir: string, entryLists: ReadonlyArray<readonly TreeEntry[]>, options: ReadTreeOptions): Promise<Array<Omit<TreeSnapshot, 'commitSha'>>> {
  const maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
  const snapshots = entryLists.map(() => ({ files: new Map<string, string>(), skipped: [] as TreeSnapshot['skipped'] }));
  const wanted = entryLists.map((entries, index) =>
    entries.filter((entry) => {
      const reason = entry.mode === '120000' ? 'symlink' : entry.size > maxFileBytes ? 'too-large' : undefined;
      if (reason !== undefined) snapshots[index]?.skipped.push({ path: entry.path, reason });
      return reason === undefined;
    }),
  );
  const blobs = [...new Set(wanted.flat().map((entry) => entry.sha))];
  if (blobs.length === 0) return snapshots;
  const { stdout } = await runGit(dir, ['cat-file', '--batch'], options, { input: blobs.map((sha) => `${sha}\n`).join('') });
  const contents = parseCatFileBatch(stdout);
  const texts = new Map(blobs.map((sha, index) => [sha, blobText(contents[index] ?? Buffer.alloc(0))]));
  wanted.forEach((entries, index) => {
    const snapshot = snapshots[index];
    for (const entry of entries) {
      const text = texts.get(entry.sha);
      if (typeof text === 'string') snapshot?.files.set(entry.path, text);
      else snapshot?.skipped.push({ path: entry.path, reason: text?.skipped ?? 'binary' });
    }
  });
  return snapshots;
}

/** A blob's UTF-8 text, or why it is not text. */
function blobText(content: Buffer): string | { skipped: SkipReason } {
  if (content.includes(0)) return { skipped: 'binary' };
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(content);
  } catch {
    return { skipped: 'not-utf8' };
  }
}

/** The text of the files at a commit whose paths match `pathFilter`, e.g. all `.github/**` files. */
export async function readTree(source: TreeSource, pathFilter?: PathFilter, options: ReadTreeOptions = {}): Promise<TreeSnapshot> {
  return withTree(source, options, async (dir, commitSha) => snapshotOf(dir, commitSha, await listEntries(dir, commitSha, pathFilter, options), options));
}

/** readTree and listFiles (every path) from one listing of the commit. */
export async function readTreeAndPaths(source: TreeSource, pathFilter: PathFilter, options: ReadTreeOptions = {}): Promise<TreeSnapshot & Pick<TreeListing, 'paths'>> {
  return withTree(source, options, async (dir, commitSha) => {
    const [read] = await readTreeObjectsAndPaths(dir, [{ treeish: commitSha, pathFilter }], options);
    return { commitSha, ...(read as TreeRead) };
  });
}

/** The text of a tree's files matching a filter, and every path in it. */
export type TreeRead = Omit<TreeSnapshot, 'commitSha'> & Pick<TreeListing, 'paths'>;

/**
 * readTreeAndPaths of tree objects or commits (by full SHA) in the repository `dir`, e.g. both sides of a change
 * (the tip and the tree treeWithDiff made of it): one listing each and one `cat-file --batch` for all of them, so
 * a blob they share is read once.
 */
export async function readTreeObjectsAndPaths(dir: string, trees: ReadonlyArray<{ treeish: string; pathFilter: PathFilter }>, options: ReadTreeOptions = {}): Promise<TreeRead[]> {
  const listings = await Promise.all(
    trees.map(async ({ treeish, pathFilter }) => {
      if (!FULL_OBJECT_ID.test(treeish)) throw new InvalidInputError(`not a full tree or commit SHA: ${treeish}`);
      const matches = toMatcher(pathFilter);
      const entries = await listEntries(dir, treeish, undefined, options);
      return { matching: entries.filter((entry) => matches(entry.path)), paths: entries.map((entry) => entry.path) };
    }),
  );
  const snapshots = await snapshotsOf(dir, listings.map((listing) => listing.matching), options);
  return listings.map((listing, index) => ({ ...(snapshots[index] as Omit<TreeRead, 'paths'>), paths: listing.paths }));
}

export type DiffApplyCheck = { applies: true } | { applies: false; message: string; alreadyApplied: boolean };

/**
 * `git apply <target> [extra]` with the diff on stdin: to index and work tree (`--index`), or to the index alone
 * (`--cached`, in a repository without a work tree). A refusal is an answer, not an exception.
 */
async function tryApply(dir: string, diff: string, target: '--index' | '--cached', extra: readonly string[], options: GitOptions): Promise<DiffApplyCheck> {
  // Exit 1 = hunks do not apply, 128 = git could not use the patch at all (e.g. corrupt): both are refusals.
  const refusals = [1, 128];
  const run = await runGit(dir, ['apply', target, ...extra], options, { input: diff, okExitCodes: [0, ...refusals] });
  if (run.exitCode === 0) return { applies: true };
  const reverse = await runGit(dir, ['apply', target, '--check', '--reverse'], options, { input: diff, okExitCodes: [0, ...refusals] });
  return { applies: false, message: run.stderr, alreadyApplied: reverse.exitCode === 0 };
}

/**
 * Whether the diff applies to the index and work tree of `dir` exactly (no 3-way merge: the commit must carry
 * the approved hunks, only shifted by line offsets). Throws InvalidDiffError for unsafe paths.
 */
export async function checkDiffApplies(dir: string, diff: string, options: GitOptions = {}): Promise<DiffApplyCheck> {
  changedFiles(diff);
  return tryApply(dir, diff, '--index', ['--check'], options);
}

/** Applies the diff to index and work tree, all or nothing; PatchDoesNotApplyError carries git's message. */
export async function applyDiff(dir: string, diff: string, options: GitOptions = {}): Promise<void> {
  changedFiles(diff);
  const result = await tryApply(dir, diff, '--index', [], options);
  if (!result.applies) throw new PatchDoesNotApplyError(result.message, result.alreadyApplied);
}

/** Runs `use` with options whose git runs use a fresh scratch index in `gitDir` (removed afterwards). */
export async function withScratchIndex<T>(gitDir: string, options: GitOptions, use: (inIndex: GitOptions) => Promise<T>): Promise<T> {
  const indexFile = path.join(gitDir, 'wpa-index');
  await rm(indexFile, { force: true });
  try {
    return await use({ ...options, env: { ...options.env, GIT_INDEX_FILE: indexFile } });
  } finally {
    await rm(indexFile, { force: true });
  }
}

/**
 * The tree of `commit` with the diff applied, made in a scratch index of the repository `gitDir` without a work
 * tree (all or nothing, exactly as applyDiff); PatchDoesNotApplyError carries git's message.
 */
export async function treeWithDiff(gitDir: string, commit: string, diff: string, options: GitOptions = {}): Promise<string> {
  changedFiles(diff);
  return withScratchIndex(gitDir, options, async (inIndex) => {
    await runGit(gitDir, ['read-tree', commit], inIndex);
    const result = await tryApply(gitDir, diff, '--cached', [], inIndex);
    if (!result.applies) throw new PatchDoesNotApplyError(result.message, result.alreadyApplied);
    return gitText(gitDir, ['write-tree'], inIndex);
  });
}

export interface TrailerCommit {
  sha: string;
  parentShas: string[];
  subject: string;
}

export interface TrailerSearchOptions extends GitOptions {
  /** Where the history starts, default HEAD. */
  ref?: string;
  /** How many commits are read, default historyDepth (500). */
  limit?: number;
}

/** What one trailer search read: the commits found per key, and the newest commit read (the tip of `ref`). */
export interface TrailerSearch {
  found: TrailerCommit[][];
  tip?: { sha: string; treeSha: string };
}

/**
 * For each key, the commits among the last `limit` commits of `ref` whose message ends with the trailer
 * `key: value` (key case-insensitive, value exact), newest first; and the tip itself. One `git log` for all keys.
 */
export async function searchTrailers(dir: string, keys: readonly string[], value: string, options: TrailerSearchOptions = {}): Promise<TrailerSearch> {
  keys.forEach(assertTrailerKey);
  const ref = options.ref ?? 'HEAD';
  assertRef(ref);
  const limit = options.limit ?? options.historyDepth ?? DEFAULT_HISTORY_DEPTH;
  const trailerFields = keys.map((key) => `%(trailers:key=${key},valueonly,unfold,separator=%x1d)%x1f`).join('');
  const log = await gitText(dir, ['log', `-n${limit}`, `--format=%H%x1f%T%x1f%P%x1f${trailerFields}%s%x1e`, ref, '--'], options);
  const search: TrailerSearch = { found: keys.map(() => []) };
  for (const record of log.split('\x1e')) {
    const [sha = '', treeSha = '', parents = '', ...rest] = record.trim().split('\x1f');
    if (sha === '') continue;
    search.tip ??= { sha, treeSha };
    const commit = { sha, parentShas: parents.split(' ').filter(Boolean), subject: rest.slice(keys.length).join('\x1f') };
    keys.forEach((_key, index) => {
      if ((rest[index] ?? '').split('\x1d').some((candidate) => candidate.trim() === value)) search.found[index]?.push(commit);
    });
  }
  return search;
}

/** searchTrailers' commits per key. */
export async function findCommitsByTrailers(dir: string, keys: readonly string[], value: string, options: TrailerSearchOptions = {}): Promise<TrailerCommit[][]> {
  return (await searchTrailers(dir, keys, value, options)).found;
}

/** The commits among the last `limit` commits of `ref` carrying the trailer `key: value`, newest first. */
export async function findCommitsByTrailer(dir: string, key: string, value: string, options: TrailerSearchOptions = {}): Promise<TrailerCommit[]> {
  const [commits = []] = await findCommitsByTrailers(dir, [key], value, options);
  return commits;
}

/** The tip of a branch fetched beside the clone, and whether it carries the trailer `key: value`. */
export interface BranchTip {
  sha: string;
  parentShas: string[];
  committerEmail: string;
  carriesTrailer: boolean;
}

/** Fetches `branch` into its tracking ref and describes its tip; undefined when the branch does not exist. */
export async function fetchBranchTip(dir: string, repoUrl: string, branch: string, trailer: { key: string; value: string }, options: GitOptions): Promise<BranchTip | undefined> {
  assertBranchName(branch);
  assertTrailerKey(trailer.key);
  try {
    await fetchRef(dir, ['fetch', '-q', '--no-tags', '--no-write-fetch-head', '--depth=2', '--', repoUrl, `+refs/heads/${branch}:${trackingRef(branch)}`], repoUrl, branch, options);
  } catch (error) {
    if (error instanceof RefNotFoundError) return undefined;
    throw error;
  }
  const format = `--format=%H%x1f%P%x1f%ce%x1f%(trailers:key=${trailer.key},valueonly,unfold,separator=%x1d)`;
  const [sha = '', parents = '', committerEmail = '', values = ''] = (await gitText(dir, ['log', '-n1', format, trackingRef(branch), '--'], options)).split('\x1f');
  return {
    sha,
    parentShas: parents.split(' ').filter(Boolean),
    committerEmail,
    carriesTrailer: values.split('\x1d').some((candidate) => candidate.trim() === trailer.value),
  };
}
