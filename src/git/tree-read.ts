/**
 * Read-only views of a repository's files at a commit: the paths, and the text of the files a filter selects, read
 * from git's objects (ls-tree and one cat-file --batch) without a checkout. A remote branch is read from its cached
 * repository (repo-cache.ts: atCachedBranchTip).
 */
import picomatch from 'picomatch';
import { GitStateError, InvalidInputError } from './errors';
import { type GitOptions, gitText, runGit } from './git-cli';
import { FULL_OBJECT_ID } from './repo';
import { assertRef } from './validate';

/** A local repository at `ref` (default HEAD). */
export interface TreeSource {
  dir: string;
  ref?: string;
}

/** picomatch globs (dotfiles included, e.g. `.github/**`) or a predicate over repository-relative paths. */
export type PathFilter = string | readonly string[] | ((path: string) => boolean);

export type SkipReason = 'symlink' | 'binary' | 'not-utf8' | 'too-large';

/** The text of a tree's files matching a filter, and every path in it. */
export interface TreeRead {
  /** Regular text files matching the filter, path to content (UTF-8, byte order mark kept). */
  files: Map<string, string>;
  /** Matching files that are not in `files`, and why. */
  skipped: { path: string; reason: SkipReason }[];
  /** Every file (regular and symlinks), sorted; submodules are not listed. */
  paths: string[];
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

function toMatcher(filter: PathFilter): (path: string) => boolean {
  if (typeof filter === 'function') return filter;
  if (filter.length === 0) return () => false;
  return picomatch(typeof filter === 'string' ? filter : [...filter], { dot: true });
}

/** Every file of the tree, sorted by path. */
async function listEntries(dir: string, treeish: string, options: GitOptions): Promise<TreeEntry[]> {
  const { stdout } = await runGit(dir, ['ls-tree', '-r', '-z', '--long', '--full-tree', treeish], options);
  const entries: TreeEntry[] = [];
  for (const record of stdout.toString('utf8').split('\0')) {
    const parsed = /^(\d+) (\w+) ([0-9a-f]+) +(\d+|-)\t(.*)$/s.exec(record);
    if (!parsed) continue;
    const [, mode = '', type, sha = '', size = '', path = ''] = parsed;
    if (type === 'blob') entries.push({ mode, sha, size: Number(size), path });
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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

/** The text of several lists of entries, with one `cat-file --batch` reading each blob once. */
async function snapshotsOf(dir: string, entryLists: ReadonlyArray<readonly TreeEntry[]>, options: ReadTreeOptions): Promise<Array<Omit<TreeRead, 'paths'>>> {
  const maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
  const snapshots = entryLists.map(() => ({ files: new Map<string, string>(), skipped: [] as TreeRead['skipped'] }));
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

/** The files of the source's commit matching `pathFilter` (e.g. `.github/**`) and every path, with the commit's SHA. */
export async function readTreeAndPaths(source: TreeSource, pathFilter: PathFilter, options: ReadTreeOptions = {}): Promise<TreeRead & { commitSha: string }> {
  const ref = source.ref ?? 'HEAD';
  assertRef(ref);
  const commitSha = await gitText(source.dir, ['rev-parse', '--verify', `${ref}^{commit}`], options);
  const [read] = await readTreeObjectsAndPaths(source.dir, [{ treeish: commitSha, pathFilter }], options);
  return { commitSha, ...(read as TreeRead) };
}

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
      const entries = await listEntries(dir, treeish, options);
      return { matching: entries.filter((entry) => matches(entry.path)), paths: entries.map((entry) => entry.path) };
    }),
  );
  const snapshots = await snapshotsOf(dir, listings.map((listing) => listing.matching), options);
  return listings.map((listing, index) => ({ ...(snapshots[index] as Omit<TreeRead, 'paths'>), paths: listing.paths }));
}
