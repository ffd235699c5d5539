/**
 * Where act finds what a `uses:` names, with nothing fetched: local actions and local reusable workflows
 * (`./...`) in the checkout, remote ones in the action mirror folder, laid out as `<mirror>/<owner>/<repo>@<ref>/`
 * (the repository's files at that ref). Anything in neither place, or that host mode cannot run (a Docker image or
 * action), comes back as a problem saying why.
 */
import path from 'node:path';
import type { YAMLMap } from 'yaml';
import { workflowFileKind } from '../analysis/parse';
import { mapGet, parseActionRef, rootMap, scalarText, stepsOf, type WorkflowFile } from '../analysis/rule';
import { locateInside, readActionManifest, readWorkflow } from './checkout-files';

/** Composite actions may use other actions; deeper nesting than this is refused rather than followed forever. */
const MAX_ACTION_DEPTH = 8;

/** Where the referenced things are looked up. */
export interface ReferenceRoots {
  checkoutDir: string;
  /** The action mirror folder; without it only local actions and workflows are available. */
  actionMirrorDir?: string;
}

/** A remote repository act must take from a local folder: `--local-repository <action>=<dir>`. */
export interface MirroredAction {
  /** `owner/repo@ref`, as act matches it. */
  action: string;
  dir: string;
}

/** A file `uses:` names, or why it is not available. */
type Resolved = { file: WorkflowFile; mirrored?: MirroredAction } | { problem: string };

/** The mirror folder of a remote reference's repository, or why it is not usable. */
function mirroredRepository(uses: string, roots: ReferenceRoots): { mirrored: MirroredAction } | { problem: string } {
  const ref = parseActionRef(uses);
  if (!ref.owner || !ref.repo || !ref.ref) return { problem: `${uses} is not an owner/repo@ref reference` };
  if (roots.actionMirrorDir === undefined) return { problem: `${uses} is remote and no action mirror is configured (ACT_ACTION_MIRROR_DIR)` };
  const action = `${ref.owner}/${ref.repo}@${ref.ref}`;
  const located = locateInside(roots.actionMirrorDir, path.join(ref.owner, `${ref.repo}@${ref.ref}`));
  if ('problem' in located) {
    return { problem: located.problem === 'outside' ? `${uses} points outside the action mirror` : `${uses} is not in the action mirror (${action})` };
  }
  return { mirrored: { action, dir: located.found } };
}

function resolveAction(uses: string, roots: ReferenceRoots): Resolved {
  const ref = parseActionRef(uses);
  if (ref.kind === 'docker') return { problem: `${uses} is a Docker image, which act's host mode cannot run` };
  if (ref.kind === 'local') {
    const located = locateInside(roots.checkoutDir, ref.raw);
    if ('problem' in located && located.problem === 'outside') return { problem: `${uses} points outside the checkout` };
    const manifest = readActionManifest(roots.checkoutDir, ref.raw, ref.raw);
    return manifest === undefined ? { problem: `${uses} has no action.yml in the checkout` } : { file: manifest };
  }
  const repository = mirroredRepository(uses, roots);
  if ('problem' in repository) return repository;
  const manifest = readActionManifest(repository.mirrored.dir, ref.subPath ?? '', uses);
  if (manifest === undefined) return { problem: `${uses} is not in the action mirror (${repository.mirrored.action})` };
  return { file: manifest, mirrored: repository.mirrored };
}

/**
 * The mirrored repositories a step's `uses:` needs, the action itself and those its composite steps use; or why
 * one of them is not available or cannot run in host mode.
 */
export function actionsFor(uses: string, roots: ReferenceRoots, depth = 0): { mirrored: MirroredAction[] } | { problem: string } {
  if (depth > MAX_ACTION_DEPTH) return { problem: `${uses} nests actions more than ${MAX_ACTION_DEPTH} deep` };
  const resolved = resolveAction(uses, roots);
  if ('problem' in resolved) return resolved;
  const using = scalarText(mapGet(mapGet(rootMap(resolved.file), 'runs'), 'using')) ?? '';
  if (using === 'docker') return { problem: `${uses} is a Docker action, which act's host mode cannot run` };
  const mirrored = resolved.mirrored === undefined ? [] : [resolved.mirrored];
  if (using !== 'composite') return { mirrored };
  for (const step of stepsOf(resolved.file)) {
    const nested = scalarText(mapGet(step.node, 'uses'));
    if (nested === undefined) continue;
    const found = actionsFor(nested, roots, depth + 1);
    if ('problem' in found) return found;
    mirrored.push(...found.mirrored);
  }
  return { mirrored };
}

/** act does such a step itself, by copying the checkout into the job's workspace, so it needs no copy of the action. */
export function isCheckoutOfThisRepository(uses: string, step: YAMLMap): boolean {
  const ref = parseActionRef(uses);
  return ref.kind === 'remote' && ref.owner === 'actions' && ref.repo === 'checkout' && ref.subPath === undefined && mapGet(mapGet(step, 'with'), 'repository') === undefined;
}

/**
 * The workflow a job's `uses:` calls: `./.github/workflows/x.yml` from the checkout, `owner/repo/.github/workflows/
 * x.yml@ref` from the mirror (act takes it from there through `--local-repository`, as it does actions).
 */
export function resolveCalledWorkflow(uses: string, roots: ReferenceRoots): Resolved {
  const ref = parseActionRef(uses);
  if (ref.kind === 'docker') return { problem: `${uses} is not a reusable workflow` };
  if (ref.kind === 'local') {
    const located = locateInside(roots.checkoutDir, ref.raw);
    if ('problem' in located) return { problem: located.problem === 'outside' ? `${uses} points outside the checkout` : `${uses} is not in the checkout` };
    const relativePath = path.posix.normalize(ref.raw);
    // GitHub calls only workflows directly in .github/workflows.
    if (workflowFileKind(relativePath) !== 'workflow') return { problem: `${uses} is not a workflow file in .github/workflows` };
    const file = readWorkflow(roots.checkoutDir, relativePath);
    return file === undefined ? { problem: `${uses} is not a file` } : { file };
  }
  const repository = mirroredRepository(uses, roots);
  if ('problem' in repository) return { problem: `${repository.problem}, and act cannot fetch a remote reusable workflow offline` };
  const label = `${repository.mirrored.action}:${ref.subPath ?? ''}`;
  const file = ref.subPath === undefined ? undefined : readWorkflow(repository.mirrored.dir, ref.subPath);
  if (file === undefined) return { problem: `${uses} is not in the action mirror (${label})` };
  return { file, mirrored: repository.mirrored };
}
