/**
 * Working clones of target repositories: checkout, fetches, diff application and the trailer search that makes
 * deploy and revert idempotent (tree-read.ts reads files from git's objects). Every folder this module creates is a
 * unique `wpa-git-<owner>-*` folder inside the caller's workRoot, named after the process that created it.
 */
import { readFile, rm } from 'node:fs/promises';
import path, { basename } from 'node:path';
import { createOwnedFolder, removeFoldersOfGoneOwners } from '../process/owned-folders';
import { changedFiles } from './diff-paths';
import { GitCommandError, InvalidInputError, PatchDoesNotApplyError, RefNotFoundError } from './errors';
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

export const FULL_OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Moves a checkout's work tree to `commit` (detached), e.g. to run checks on a patch's deployed commit. */
export async function detachAt(dir: string, commit: string, options: GitOptions = {}): Promise<void> {
  if (!FULL_OBJECT_ID.test(commit)) throw new InvalidInputError(`not a full commit SHA: ${commit}`);
  await runGit(dir, ['checkout', '-q', '--detach', commit], options);
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
