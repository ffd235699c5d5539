/**
 * Reads workflow files and action manifests from a checkout (or the action mirror) without leaving it: a path that
 * climbs out (`./../x`, an absolute path) or goes through a symlink pointing outside is reported as outside and
 * never read, since the checkout is the target's code and may be made to point anywhere on the worker.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseWorkflowFile, workflowFileKind } from '../analysis/parse';
import type { WorkflowFile } from '../analysis/rule';

const ACTION_FILE_NAMES = ['action.yml', 'action.yaml'];
const WORKFLOWS_DIR = '.github/workflows';

/** Where a path under a root is: its absolute path and, symlinks resolved, its path relative to the root; or why it cannot be used. */
export type Located = { found: string; realRelative: string } | { problem: 'outside' | 'missing' };

/** Whether `child` is `parent` or inside it, comparing the paths as written. */
export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * `relativePath` under `root`: outside when it climbs out as written or, symlinks followed, lands outside the root's
 * real path; missing when nothing is there. The path returned is as written (what act and the sandbox are given).
 */
export function locateInside(root: string, relativePath: string): Located {
  const absolute = path.resolve(root, relativePath);
  if (!isInside(path.resolve(root), absolute)) return { problem: 'outside' };
  if (!existsSync(absolute)) return { problem: 'missing' };
  const realRoot = realpathSync(root);
  const realAbsolute = realpathSync(absolute);
  if (!isInside(realRoot, realAbsolute)) return { problem: 'outside' };
  return { found: absolute, realRelative: path.relative(realRoot, realAbsolute).split(path.sep).join('/') || '.' };
}

/** A regular file under `root`, or undefined when it is missing, not a file, or outside the root. */
function readFileInside(root: string, relativePath: string): string | undefined {
  const located = locateInside(root, relativePath);
  if (!('found' in located) || !statSync(located.found).isFile()) return undefined;
  return readFileSync(located.found, 'utf8');
}

/** A workflow file of the checkout, parsed; undefined when it is missing or outside the checkout. */
export function readWorkflow(checkoutDir: string, relativePath: string): WorkflowFile | undefined {
  const text = readFileInside(checkoutDir, relativePath);
  return text === undefined ? undefined : parseWorkflowFile(relativePath, text, 'workflow');
}

/** The `action.yml` (or `action.yaml`) of the action folder `dirPath` under `root`, parsed and labelled `label`. */
export function readActionManifest(root: string, dirPath: string, label: string): WorkflowFile | undefined {
  for (const name of ACTION_FILE_NAMES) {
    const text = readFileInside(root, path.join(dirPath, name));
    if (text !== undefined) return parseWorkflowFile(`${label}/${name}`, text, 'action');
  }
  return undefined;
}

/** Repository-relative paths of the checkout's workflow files (`.github/workflows/*.yml`), sorted. */
export function workflowPathsIn(checkoutDir: string): string[] {
  const located = locateInside(checkoutDir, WORKFLOWS_DIR);
  if (!('found' in located) || !statSync(located.found).isDirectory()) return [];
  return readdirSync(located.found)
    .map((name) => `${WORKFLOWS_DIR}/${name}`)
    .filter((relativePath) => workflowFileKind(relativePath) === 'workflow')
    .sort();
}
