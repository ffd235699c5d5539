/**
 * What a hand-written diff does to its targets' files, read when the patch is created so the quorum rules
 * (risk-quorum.ts) can judge it: the files the diff changes as they are on each target's branch, and the same files
 * with the diff applied in memory. The branch is fetched (always: the quorum is judged on its tip now) into this
 * process's cached repository of it, no checkout: a worker in the same process (`npm start`) starts the patch's
 * tests from that fetch, and the next patch on the target fetches only what changed. The test stages apply the diff
 * with git later; a diff that does not apply here is reported, not refused, so they still say why.
 */
import { applyPatch, parsePatch, type StructuredPatch } from 'diff';
import type { Target } from '../domain/types';
import { atCachedBranchTip, type ChangedFile, changedFiles, GitError, type GitOptions, readTreeObjectsAndPaths } from '../git';
import type { TargetChanges } from './risk-quorum';
import type { PatchedFile } from './safety-report';

/** The changed files before and after a diff, or why they could not be read. */
export type PatchedFiles = PatchedFile[] | { unreadable: string };

export interface PatchedFilesEnvironment {
  workRoot: string;
  git: GitOptions;
}

/** Targets whose branches are read at the same time. */
const READ_CONCURRENCY = 4;
const MAX_ERROR_CHARS = 200;

function shortMessage(error: unknown): string {
  const line = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  return line.length <= MAX_ERROR_CHARS ? line : `${line.slice(0, MAX_ERROR_CHARS - 1)}…`;
}

/** The diff's file sections, as the git module and jsdiff read them (same order). */
interface ReadDiff {
  changes: ChangedFile[];
  patches: StructuredPatch[];
}

function readDiff(diff: string): ReadDiff | { unreadable: string } {
  try {
    const changes = changedFiles(diff);
    const patches = parsePatch(diff);
    if (patches.length !== changes.length) return { unreadable: 'the diff cannot be read (its file sections are ambiguous)' };
    return { changes, patches };
  } catch (error) {
    return { unreadable: `the diff cannot be read (${shortMessage(error)})` };
  }
}

/** Applies `diff` in memory to `before` (the old side's files by path); a rename lists both paths. */
export function patchedFilesFromDiff(diff: string, before: ReadonlyMap<string, string>): PatchedFiles {
  const read = readDiff(diff);
  return 'unreadable' in read ? read : applied(read, before);
}

function applied(read: ReadDiff, before: ReadonlyMap<string, string>): PatchedFiles {
  const files: PatchedFile[] = [];
  for (const [index, change] of read.changes.entries()) {
    const old = change.oldPath === null ? null : before.get(change.oldPath);
    if (old === undefined) return { unreadable: `the diff changes ${change.oldPath}, which is not a text file on the branch` };
    const patch = read.patches[index] as StructuredPatch;
    const after = change.newPath === null ? null : applyPatch(old ?? '', patch);
    if (after === false) return { unreadable: `the diff does not apply to ${change.oldPath ?? change.newPath}` };
    if (change.oldPath === change.newPath) {
      files.push({ path: change.newPath ?? '', before: old, after });
      continue;
    }
    if (change.oldPath !== null && change.status !== 'copied') files.push({ path: change.oldPath, before: old, after: null });
    if (change.newPath !== null) files.push({ path: change.newPath, before: null, after });
  }
  return files;
}

/** The files `diff` changes on the tip of the target's branch, before and after. */
async function readPatchedFiles(target: Target, read: ReadDiff, env: PatchedFilesEnvironment): Promise<PatchedFiles> {
  const oldPaths = new Set(read.changes.flatMap((change) => change.oldPath ?? []));
  try {
    // A predicate, not globs: a path may hold characters picomatch would read as a pattern.
    const files = await atCachedBranchTip(target.repoUrl, target.branch, env.workRoot, env.git, async ({ gitDir, commitSha }) => {
      const [snapshot] = await readTreeObjectsAndPaths(gitDir, [{ treeish: commitSha, pathFilter: (path) => oldPaths.has(path) }], env.git);
      return snapshot?.files ?? new Map<string, string>();
    }, { handOver: true });
    return applied(read, files);
  } catch (error) {
    if (error instanceof GitError) return { unreadable: `its branch ${target.branch} could not be read (${shortMessage(error)})` };
    throw error;
  }
}

/** What the same diff does on each target, a few targets at a time, in the order of `targets`. */
export async function readTargetChanges(targets: readonly Target[], diff: string, env: PatchedFilesEnvironment): Promise<TargetChanges[]> {
  const read = readDiff(diff);
  if ('unreadable' in read) return targets.map((target) => ({ target: target.name, files: read }));
  const results: TargetChanges[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const index = next++;
      const target = targets[index] as Target;
      results[index] = { target: target.name, files: await readPatchedFiles(target, read, env) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, targets.length) }, worker));
  return results;
}
