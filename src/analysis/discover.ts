/**
 * Builds the RepositoryView the rules read: from a checkout on disk, or from in-memory file contents (a git tree,
 * a patched tree).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { defaultFirstPartyOwners } from './knowledge/first-party-owners';
import { parseWorkflowFile, workflowFileKind } from './parse';
import type { RepositoryView, WorkflowFile } from './rule';

/** The folders CI workflow files live in, relative to the repository root. */
const WORKFLOW_FOLDERS = ['.github/workflows', '.github/actions'];

export interface RepositoryOptions {
  /** Owners whose actions count as first-party; replaces the default list (GitHub's own organizations). */
  firstPartyOwners?: readonly string[];
}

function firstPartyOwners(options: RepositoryOptions): readonly string[] {
  return [...new Set((options.firstPartyOwners ?? defaultFirstPartyOwners).map((owner) => owner.toLowerCase()))];
}

/** A repository-relative path in canonical form, or undefined when it escapes the repository. */
export function normalizeRepoPath(path: string): string | undefined {
  const normalized = posix.normalize(path.replace(/\\/g, '/')).replace(/^\.\//, '');
  if (normalized === '..' || normalized.startsWith('../') || normalized.startsWith('/')) return undefined;
  return normalized;
}

/** Repository-relative paths of the files under `folder`, recursively. Symlinks are skipped. */
function listFiles(root: string, folder: string): string[] {
  let entries;
  try {
    entries = readdirSync(join(root, folder), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = `${folder}/${entry.name}`;
    // Symlinks are not followed: a link could point outside the checkout and its content would end up in reports.
    if (entry.isDirectory()) return listFiles(root, path);
    return entry.isFile() ? [path] : [];
  });
}

function sortedByPath(files: WorkflowFile[]): WorkflowFile[] {
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Every workflow and action file of a checkout, parsed; `fileExists` asks the directory. */
export function discoverRepository(root: string, options: RepositoryOptions = {}): RepositoryView {
  const workflowFiles = sortedByPath(
    WORKFLOW_FOLDERS.flatMap((folder) => listFiles(root, folder)).flatMap((path) => {
      const kind = workflowFileKind(path);
      return kind === undefined ? [] : [parseWorkflowFile(path, readFileSync(join(root, path), 'utf8'), kind)];
    }),
  );
  const existsCache = new Map<string, boolean>();
  return {
    workflowFiles,
    fileExists(path) {
      const normalized = normalizeRepoPath(path);
      if (normalized === undefined) return false;
      let exists = existsCache.get(normalized);
      if (exists === undefined) {
        exists = statSync(join(root, normalized), { throwIfNoEntry: false })?.isFile() ?? false;
        existsCache.set(normalized, exists);
      }
      return exists;
    },
    firstPartyOwners: firstPartyOwners(options),
  };
}

export interface InMemoryRepositoryOptions extends RepositoryOptions {
  /** Paths of further files that exist but whose content is not needed (e.g. the whole listing of a git tree). */
  existingPaths?: Iterable<string>;
}

/** A repository from file contents by repository-relative path; files that are not CI files only count as existing. */
export function repositoryFromFiles(files: ReadonlyMap<string, string>, options: InMemoryRepositoryOptions = {}): RepositoryView {
  const existing = new Set<string>();
  const workflowFiles: WorkflowFile[] = [];
  for (const [rawPath, text] of files) {
    const path = normalizeRepoPath(rawPath);
    if (path === undefined) continue;
    existing.add(path);
    const kind = workflowFileKind(path);
    if (kind !== undefined) workflowFiles.push(parseWorkflowFile(path, text, kind));
  }
  for (const rawPath of options.existingPaths ?? []) {
    const path = normalizeRepoPath(rawPath);
    if (path !== undefined) existing.add(path);
  }
  return {
    workflowFiles: sortedByPath(workflowFiles),
    fileExists: (path) => {
      const normalized = normalizeRepoPath(path);
      return normalized !== undefined && existing.has(normalized);
    },
    firstPartyOwners: firstPartyOwners(options),
  };
}

/** The view with some CI files' texts replaced (re-parsed); other files, `fileExists` and owners stay as they are. */
export function withFileTexts(view: RepositoryView, texts: ReadonlyMap<string, string>): RepositoryView {
  const workflowFiles = view.workflowFiles.map((file) => {
    const text = texts.get(file.path);
    return text === undefined || text === file.text ? file : parseWorkflowFile(file.path, text, file.kind);
  });
  return { workflowFiles, fileExists: (path) => view.fileExists(path), firstPartyOwners: view.firstPartyOwners };
}
