/**
 * Which workflow files of a checkout a change of some paths can make run differently: the changed workflow files,
 * the workflows that use a changed local action (any file in its folder: its action.yml, a script it runs), directly
 * or through local composite actions, and the workflows that call a changed reusable workflow of the checkout,
 * directly or through other calls (unless calls are not followed). It only reads the checkout, and never leaves it:
 * a `uses: ./../x`, an absolute path or a symlink pointing outside is not followed.
 */
import path from 'node:path';
import { workflowFileKind } from '../analysis/parse';
import { jobsOf, mapGet, parseActionRef, rootMap, scalarText, stepsOf, stepsOfJob } from '../analysis/rule';
import { isInside, locateInside, readActionManifest, readWorkflow, workflowPathsIn } from './checkout-files';

export interface AffectedOptions {
  checkoutDir: string;
  /** Repository-relative paths the patch changes, as they are in this checkout (the old ones before the patch, the new ones after). */
  changedPaths: readonly string[];
  /** Whether a workflow is affected by a change of a workflow it calls (default true). */
  runCalledWorkflows?: boolean;
}

/** A workflow file or a local action folder, by its checkout-relative path as written and as symlinks resolve it. */
interface UsedFile {
  kind: 'workflow' | 'action';
  path: string;
  realPath: string;
}

/** A checkout-relative path as written in a `uses: ./x` or a diff: normalized, or undefined when it climbs out. */
function relativeInside(written: string): string | undefined {
  const normalized = path.posix.normalize(written);
  return normalized.startsWith('../') || normalized === '..' || path.posix.isAbsolute(normalized) ? undefined : normalized;
}

/**
 * The file a local `uses:` names (`./...`), or undefined for a remote or Docker one, or one that leaves the
 * checkout as written or through a symlink. A missing target keeps its written path (its files may be what changed).
 */
function localFile(checkoutDir: string, uses: string, kind: UsedFile['kind']): UsedFile | undefined {
  const ref = parseActionRef(uses);
  const written = ref.kind === 'local' ? relativeInside(ref.raw) : undefined;
  if (written === undefined) return undefined;
  const located = locateInside(checkoutDir, written);
  if ('problem' in located) return located.problem === 'outside' ? undefined : { kind, path: written, realPath: written };
  return { kind, path: written, realPath: located.realRelative };
}

/** What a file uses that is in the checkout: local actions, and for a workflow the local workflows it calls. */
function usedBy(checkoutDir: string, file: UsedFile, followCalls: boolean): UsedFile[] {
  const used: UsedFile[] = [];
  const usesOf = (node: unknown): string | undefined => scalarText(mapGet(node, 'uses'));
  if (file.kind === 'workflow') {
    const workflow = readWorkflow(checkoutDir, file.path);
    for (const job of workflow === undefined ? [] : jobsOf(workflow)) {
      const called = usesOf(job.node);
      const calledFile = called === undefined || !followCalls ? undefined : localFile(checkoutDir, called, 'workflow');
      if (calledFile !== undefined && workflowFileKind(calledFile.path) === 'workflow') used.push(calledFile);
      for (const step of stepsOfJob(job)) used.push(...usedAction(checkoutDir, usesOf(step.node)));
    }
    return used;
  }
  const manifest = readActionManifest(checkoutDir, file.path, file.path);
  const using = manifest === undefined ? undefined : scalarText(mapGet(mapGet(rootMap(manifest), 'runs'), 'using'));
  if (manifest === undefined || using !== 'composite') return used;
  for (const step of stepsOf(manifest)) used.push(...usedAction(checkoutDir, usesOf(step.node)));
  return used;
}

function usedAction(checkoutDir: string, uses: string | undefined): UsedFile[] {
  const action = uses === undefined ? undefined : localFile(checkoutDir, uses, 'action');
  return action === undefined ? [] : [action];
}

/** Whether the patch changed the file itself: the workflow file, or any file in the action's folder. */
function isChanged(file: UsedFile, changed: readonly string[]): boolean {
  const paths = [file.path, file.realPath];
  if (file.kind === 'workflow') return changed.some((changedPath) => paths.includes(changedPath));
  return changed.some((changedPath) => paths.some((folder) => isInside(path.posix.join('/', folder), path.posix.join('/', changedPath))));
}

/** The checkout's workflow files the change affects, sorted; see the module comment. */
export function affectedWorkflows(options: AffectedOptions): string[] {
  const changed = options.changedPaths.flatMap((changedPath) => relativeInside(changedPath) ?? []);
  const followCalls = options.runCalledWorkflows ?? true;
  const usedCache = new Map<string, UsedFile[]>();
  const keyOf = (file: UsedFile): string => `${file.kind}:${file.realPath}`;
  const usedByCached = (file: UsedFile): UsedFile[] => {
    let used = usedCache.get(keyOf(file));
    if (used === undefined) {
      used = usedBy(options.checkoutDir, file, followCalls);
      usedCache.set(keyOf(file), used);
    }
    return used;
  };
  // A walk over what the workflow uses, each file once (uses may form cycles), until a changed one is found.
  const reachesChange = (workflow: UsedFile): boolean => {
    const seen = new Set<string>();
    const pending = [workflow];
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (seen.has(keyOf(file))) continue;
      seen.add(keyOf(file));
      if (isChanged(file, changed)) return true;
      pending.push(...usedByCached(file));
    }
    return false;
  };
  const listed = workflowPathsIn(options.checkoutDir).flatMap((workflowPath) => localFile(options.checkoutDir, `./${workflowPath}`, 'workflow') ?? []);
  const affected = listed.filter(reachesChange).map((file) => file.path);
  const changedWorkflows = changed.filter((changedPath) => workflowFileKind(changedPath) === 'workflow');
  return [...new Set([...changedWorkflows, ...affected])].sort();
}
