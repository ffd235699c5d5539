/**
 * Which jobs of some workflow files an event (`push` by default) would start, whether act can run each of them
 * here, and what act needs for that: the runner labels to map onto the host and a local copy of every action.
 * Nothing is fetched: local actions (`./...`) come from the checkout, remote ones from the action mirror folder,
 * laid out as `<mirror>/<owner>/<repo>@<ref>/` (the repository's files at that ref). A job whose action is in neither
 * place, or that needs something host mode cannot give (a container, a Docker action), is not runnable, with the reason.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, type YAMLMap } from 'yaml';
import { parseWorkflowFile } from '../analysis/parse';
import { jobsOf, mapGet, parseActionRef, rootMap, scalarText, stepsOf, stepsOfJob, stringList, triggersOf, type JobView, type WorkflowFile } from '../analysis/rule';

export const DEFAULT_EVENT = 'push';
/** Composite actions may use other actions; deeper nesting than this is refused rather than followed forever. */
const MAX_ACTION_DEPTH = 8;
const ACTION_FILE_NAMES = ['action.yml', 'action.yaml'];

export interface PlanOptions {
  /** The checkout the workflow files belong to. */
  checkoutDir: string;
  /** Repository-relative paths of the workflow files to run. */
  workflowPaths: readonly string[];
  /** The event whose jobs run (default push). */
  event?: string;
  /** The action mirror folder; without it only local actions are available. */
  actionMirrorDir?: string;
}

/** A remote action act must take from a local folder: `--local-repository <action>=<dir>`. */
export interface MirroredAction {
  /** `owner/repo@ref`, as act matches it. */
  action: string;
  dir: string;
}

export type PlannedJob =
  | { workflowPath: string; jobId: string; runnable: true; runnerLabels: string[]; secrets: string[] }
  | { workflowPath: string; jobId: string; runnable: false; reason: string };

export interface CiRunPlan {
  event: string;
  jobs: PlannedJob[];
  /** Every remote action the runnable jobs use, each once. */
  mirroredActions: MirroredAction[];
}

/** An action's location and manifest, or why it is not available. */
type ResolvedAction = { dir: string; manifest: WorkflowFile; mirrored?: MirroredAction } | { problem: string };

function readWorkflow(checkoutDir: string, relativePath: string): WorkflowFile | undefined {
  const file = path.join(checkoutDir, relativePath);
  return existsSync(file) ? parseWorkflowFile(relativePath, readFileSync(file, 'utf8'), 'workflow') : undefined;
}

function readManifest(dir: string, label: string): WorkflowFile | undefined {
  const name = ACTION_FILE_NAMES.find((candidate) => existsSync(path.join(dir, candidate)));
  return name === undefined ? undefined : parseWorkflowFile(`${label}/${name}`, readFileSync(path.join(dir, name), 'utf8'), 'action');
}

/** Whether `child` is `parent` or inside it: a `uses: ./../x` or a `../` in a ref must not leave its folder. */
function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function resolveAction(uses: string, options: PlanOptions): ResolvedAction {
  const ref = parseActionRef(uses);
  if (ref.kind === 'docker') return { problem: `${uses} is a Docker image, which act's host mode cannot run` };
  if (ref.kind === 'local') {
    const dir = path.resolve(options.checkoutDir, ref.raw);
    if (!isInside(options.checkoutDir, dir)) return { problem: `${uses} points outside the checkout` };
    const manifest = readManifest(dir, ref.raw);
    return manifest === undefined ? { problem: `${uses} has no action.yml in the checkout` } : { dir, manifest };
  }
  if (!ref.owner || !ref.repo || !ref.ref) return { problem: `${uses} is not an owner/repo@ref reference` };
  if (options.actionMirrorDir === undefined) return { problem: `${uses} is a remote action and no action mirror is configured (ACT_ACTION_MIRROR_DIR)` };
  const action = `${ref.owner}/${ref.repo}@${ref.ref}`;
  const repoDir = path.join(options.actionMirrorDir, ref.owner, `${ref.repo}@${ref.ref}`);
  const dir = path.join(repoDir, ref.subPath ?? '');
  if (!isInside(options.actionMirrorDir, repoDir) || !isInside(repoDir, dir)) return { problem: `${uses} points outside the action mirror` };
  const manifest = existsSync(repoDir) ? readManifest(dir, uses) : undefined;
  if (manifest === undefined) return { problem: `${uses} is not in the action mirror (${path.join(ref.owner, `${ref.repo}@${ref.ref}`)})` };
  return { dir, manifest, mirrored: { action, dir: repoDir } };
}

/**
 * The mirrored actions a `uses:` needs, itself and those its composite steps use; or why one of them is not
 * available or cannot run in host mode.
 */
function actionsFor(uses: string, options: PlanOptions, depth: number): { mirrored: MirroredAction[] } | { problem: string } {
  if (depth > MAX_ACTION_DEPTH) return { problem: `${uses} nests actions more than ${MAX_ACTION_DEPTH} deep` };
  const resolved = resolveAction(uses, options);
  if ('problem' in resolved) return resolved;
  const using = scalarText(mapGet(mapGet(rootMap(resolved.manifest), 'runs'), 'using')) ?? '';
  if (using === 'docker') return { problem: `${uses} is a Docker action, which act's host mode cannot run` };
  const mirrored = resolved.mirrored === undefined ? [] : [resolved.mirrored];
  if (using !== 'composite') return { mirrored };
  for (const step of stepsOf(resolved.manifest)) {
    const nested = scalarText(mapGet(step.node, 'uses'));
    if (nested === undefined) continue;
    const found = actionsFor(nested, options, depth + 1);
    if ('problem' in found) return found;
    mirrored.push(...found.mirrored);
  }
  return { mirrored };
}

/** act does such a step itself, by copying the checkout into the job's workspace, so it needs no copy of the action. */
function isCheckoutOfThisRepository(uses: string, step: YAMLMap): boolean {
  const ref = parseActionRef(uses);
  return ref.kind === 'remote' && ref.owner === 'actions' && ref.repo === 'checkout' && ref.subPath === undefined && mapGet(mapGet(step, 'with'), 'repository') === undefined;
}

/** `secrets.NAME` references anywhere in the job, so act can be given a dummy value for each. */
function secretsReferenced(file: WorkflowFile, job: JobView): string[] {
  const source = file.text.slice(job.node.range?.[0] ?? 0, job.node.range?.[2] ?? file.text.length);
  const names = [...source.matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? '');
  // GITHUB_TOKEN is act's own (-s GITHUB_TOKEN would replace it); a dummy one is added by invoke.ts.
  return [...new Set(names)].filter((name) => name !== '' && name !== 'GITHUB_TOKEN').sort();
}

function planJob(file: WorkflowFile, job: JobView, options: PlanOptions): { job: PlannedJob; mirrored: MirroredAction[] } {
  const base = { workflowPath: file.path, jobId: job.id };
  const notRunnable = (reason: string) => ({ job: { ...base, runnable: false as const, reason }, mirrored: [] });
  if (mapGet(job.node, 'uses') !== undefined) return notRunnable('it calls a reusable workflow, which is not run yet');
  if (mapGet(job.node, 'container') !== undefined) return notRunnable('it runs in a container, which act\'s host mode cannot give');
  if (mapGet(job.node, 'services') !== undefined) return notRunnable('it needs service containers, which act\'s host mode cannot give');
  const runsOn = mapGet(job.node, 'runs-on');
  const runnerLabels = isMap(runsOn) ? stringList(mapGet(runsOn, 'labels')) : stringList(runsOn);
  if (runnerLabels.length === 0) return notRunnable('its runs-on has no plain labels');
  if (runnerLabels.some((label) => label.includes('${{'))) return notRunnable('its runs-on is an expression');
  const mirrored: MirroredAction[] = [];
  for (const step of stepsOfJob(job)) {
    const uses = scalarText(mapGet(step.node, 'uses'));
    if (uses === undefined || isCheckoutOfThisRepository(uses, step.node)) continue;
    const found = actionsFor(uses, options, 0);
    if ('problem' in found) return notRunnable(`step ${step.index + 1}: ${found.problem}`);
    mirrored.push(...found.mirrored);
  }
  return { job: { ...base, runnable: true, runnerLabels, secrets: secretsReferenced(file, job) }, mirrored };
}

/** A job is runnable only when every job it needs is. */
function withUnrunnableNeeds(jobs: PlannedJob[], nodes: Map<string, JobView>): PlannedJob[] {
  const planned = new Map(jobs.map((job) => [`${job.workflowPath}\n${job.jobId}`, job]));
  const settle = (job: PlannedJob, seen: Set<string>): PlannedJob => {
    if (!job.runnable) return job;
    for (const need of stringList(mapGet(nodes.get(`${job.workflowPath}\n${job.jobId}`)?.node, 'needs'))) {
      const key = `${job.workflowPath}\n${need}`;
      const needed = planned.get(key);
      if (needed === undefined || seen.has(key)) return { workflowPath: job.workflowPath, jobId: job.jobId, runnable: false, reason: `it needs ${need}, which is not in the workflow or needs itself` };
      const settled = settle(needed, new Set([...seen, key]));
      if (!settled.runnable) return { workflowPath: job.workflowPath, jobId: job.jobId, runnable: false, reason: `it needs ${need}, which is not runnable` };
    }
    return job;
  };
  return jobs.map((job) => settle(job, new Set([`${job.workflowPath}\n${job.jobId}`])));
}

/**
 * The jobs the event starts in the given workflow files, in file and source order. Branch and path filters of the
 * trigger are not evaluated: every job of a workflow the event triggers is planned.
 */
export function planCiRun(options: PlanOptions): CiRunPlan {
  const event = options.event ?? DEFAULT_EVENT;
  const jobs: PlannedJob[] = [];
  const nodes = new Map<string, JobView>();
  const mirrored = new Map<string, MirroredAction>();
  for (const workflowPath of options.workflowPaths) {
    const file = readWorkflow(options.checkoutDir, workflowPath);
    if (file === undefined || !triggersOf(file).has(event)) continue;
    for (const job of jobsOf(file)) {
      const planned = planJob(file, job, options);
      jobs.push(planned.job);
      nodes.set(`${workflowPath}\n${job.id}`, job);
      for (const action of planned.mirrored) mirrored.set(action.action, action);
    }
  }
  const settled = withUnrunnableNeeds(jobs, nodes);
  return { event, jobs: settled, mirroredActions: [...mirrored.values()] };
}
