/**
 * Which jobs of some workflow files an event (`push` by default) would start, whether act can run each of them
 * here, and what act needs for that: the runner labels to map onto the host and a local copy of every action (see
 * references.ts: nothing is fetched). A job whose action is not available, or that needs something host mode cannot
 * give (a container, a Docker action), is not runnable, with the reason.
 *
 * A job that calls a reusable workflow (`uses:` on the job) runs with act, which runs the called workflow's jobs as
 * part of it. Each called job must be runnable as a job of its own, recursively; the calling job's runner labels and
 * secrets are those of every job it ends up running. Cycles of calls, calls nested deeper than MAX_CALL_DEPTH and
 * more than MAX_CALLS calls under one job are not runnable. A target can switch calling off (runCalledWorkflows).
 */
import path from 'node:path';
import { isMap } from 'yaml';
import { jobsOf, mapGet, parseActionRef, rootMap, scalarText, stepsOfJob, stringList, triggersOf, type JobView, type WorkflowFile } from '../analysis/rule';
import { readWorkflow } from './checkout-files';
import { actionsFor, isCheckoutOfThisRepository, type MirroredAction, type ReferenceRoots, resolveCalledWorkflow } from './references';

export const DEFAULT_EVENT = 'push';
/** The event under which GitHub runs a workflow called by another one. */
const CALL_EVENT = 'workflow_call';
/** GitHub refuses deeper nesting too; the bound keeps a long chain of calls from being followed without end. */
const MAX_CALL_DEPTH = 10;
/** Calls planned under one top-level job, counting repeats: a fan-out of calls at every level stays cheap to plan. */
const MAX_CALLS = 50;

export interface PlanOptions extends ReferenceRoots {
  /** Repository-relative paths of the workflow files to run. */
  workflowPaths: readonly string[];
  /** The event whose jobs run (default push). */
  event?: string;
  /** Whether a job that calls a reusable workflow runs, with the called workflow's jobs (default true). */
  runCalledWorkflows?: boolean;
}

/**
 * One call of a reusable workflow under a job. act logs the called jobs under their own ids and names their runs
 * `<caller name>/<workflow name>/<job name>`: the calling job's `name:` or id (with `-<n>` per matrix variant), then
 * the called workflow's `name:` or file name.
 */
export interface WorkflowCall {
  callerName: string;
  workflowName: string;
}

export type PlannedJob =
  | { workflowPath: string; jobId: string; runnable: true; runnerLabels: string[]; secrets: string[]; calls?: WorkflowCall[] }
  | { workflowPath: string; jobId: string; runnable: false; reason: string };

export interface CiRunPlan {
  event: string;
  jobs: PlannedJob[];
  /** Every remote action and reusable workflow the runnable jobs use, each once. */
  mirroredActions: MirroredAction[];
}

/** The calls being followed, to refuse cycles, depth and fan-out beyond the bounds. */
interface CallTrail {
  /** Identities of the workflows from the top-level one down to the one being planned. */
  chain: readonly string[];
  /** Shared by every call under one top-level job. */
  budget: CallBudget;
}

interface CallBudget {
  callsLeft: number;
}

interface JobsPlan {
  jobs: PlannedJob[];
  mirrored: MirroredAction[];
}

/** A workflow file's identity in a chain of calls: local ones by path, remote ones by reference. */
function localIdentity(workflowPath: string): string {
  return `./${workflowPath}`;
}

/** How act names a workflow in its runs' names. */
function actWorkflowName(file: WorkflowFile): string {
  return scalarText(mapGet(rootMap(file), 'name')) || path.basename(file.path);
}

/** `secrets.NAME` references anywhere in the job, so act can be given a dummy value for each. */
function secretsReferenced(file: WorkflowFile, job: JobView): string[] {
  const source = file.text.slice(job.node.range?.[0] ?? 0, job.node.range?.[2] ?? file.text.length);
  const names = [...source.matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? '');
  // GITHUB_TOKEN is act's own (-s GITHUB_TOKEN would replace it); a dummy one is added by invoke.ts.
  return [...new Set(names)].filter((name) => name !== '' && name !== 'GITHUB_TOKEN').sort();
}

type JobPlan = { job: PlannedJob; mirrored: MirroredAction[] };

function notRunnable(file: WorkflowFile, job: JobView, reason: string): JobPlan {
  return { job: { workflowPath: file.path, jobId: job.id, runnable: false, reason }, mirrored: [] };
}

/** A job that calls the reusable workflow `uses`: runnable when every job it would run is. */
function planCallingJob(file: WorkflowFile, job: JobView, uses: string, options: PlanOptions, trail: CallTrail): JobPlan {
  const refuse = (reason: string): JobPlan => notRunnable(file, job, `it calls ${uses}: ${reason}`);
  if (options.runCalledWorkflows === false) return notRunnable(file, job, 'it calls a reusable workflow, and running called workflows is switched off for the target');
  const callerIsLocal = trail.chain.at(-1)?.startsWith('./') ?? true;
  const isLocalCall = parseActionRef(uses).kind === 'local';
  // GitHub takes `./` in a remote workflow from that workflow's repository; act would take it from the checkout.
  if (isLocalCall && !callerIsLocal) return refuse('a local call inside a remote reusable workflow, which act would resolve in the checkout instead');
  const called = resolveCalledWorkflow(uses, options);
  if ('problem' in called) return refuse(called.problem);
  const identity = isLocalCall ? localIdentity(called.file.path) : uses.trim();
  if (trail.chain.includes(identity)) return refuse(`a cycle of calls (${[...trail.chain, identity].join(' -> ')})`);
  if (trail.chain.length > MAX_CALL_DEPTH) return refuse(`calls are nested more than ${MAX_CALL_DEPTH} deep`);
  if (trail.budget.callsLeft <= 0) return refuse(`more than ${MAX_CALLS} calls of reusable workflows under one job`);
  trail.budget.callsLeft -= 1;
  if (!triggersOf(called.file).has(CALL_EVENT)) return refuse(`it has no ${CALL_EVENT} trigger`);
  const inner = planJobsOf(called.file, options, [...trail.chain, identity], trail.budget);
  if (inner.jobs.length === 0) return refuse('it has no jobs');
  const runnable: Extract<PlannedJob, { runnable: true }>[] = [];
  for (const innerJob of inner.jobs) {
    if (!innerJob.runnable) return refuse(`its job ${innerJob.jobId} is not runnable: ${innerJob.reason}`);
    runnable.push(innerJob);
  }
  const callerName = scalarText(mapGet(job.node, 'name')) || job.id;
  return {
    job: {
      workflowPath: file.path,
      jobId: job.id,
      runnable: true,
      runnerLabels: [...new Set(runnable.flatMap((innerJob) => innerJob.runnerLabels))],
      secrets: [...new Set([...secretsReferenced(file, job), ...runnable.flatMap((innerJob) => innerJob.secrets)])].sort(),
      calls: [{ callerName, workflowName: actWorkflowName(called.file) }, ...runnable.flatMap((innerJob) => innerJob.calls ?? [])],
    },
    mirrored: [...(called.mirrored === undefined ? [] : [called.mirrored]), ...inner.mirrored],
  };
}

function planJob(file: WorkflowFile, job: JobView, options: PlanOptions, trail: CallTrail): JobPlan {
  if (mapGet(job.node, 'uses') !== undefined) {
    const uses = scalarText(mapGet(job.node, 'uses'));
    return uses === undefined ? notRunnable(file, job, 'its uses: is not a reference') : planCallingJob(file, job, uses, options, trail);
  }
  if (mapGet(job.node, 'container') !== undefined) return notRunnable(file, job, 'it runs in a container, which act\'s host mode cannot give');
  if (mapGet(job.node, 'services') !== undefined) return notRunnable(file, job, 'it needs service containers, which act\'s host mode cannot give');
  const runsOn = mapGet(job.node, 'runs-on');
  const runnerLabels = isMap(runsOn) ? stringList(mapGet(runsOn, 'labels')) : stringList(runsOn);
  if (runnerLabels.length === 0) return notRunnable(file, job, 'its runs-on has no plain labels');
  if (runnerLabels.some((label) => label.includes('${{'))) return notRunnable(file, job, 'its runs-on is an expression');
  const mirrored: MirroredAction[] = [];
  for (const step of stepsOfJob(job)) {
    const uses = scalarText(mapGet(step.node, 'uses'));
    if (uses === undefined || isCheckoutOfThisRepository(uses, step.node)) continue;
    const found = actionsFor(uses, options);
    if ('problem' in found) return notRunnable(file, job, `step ${step.index + 1}: ${found.problem}`);
    mirrored.push(...found.mirrored);
  }
  return { job: { workflowPath: file.path, jobId: job.id, runnable: true, runnerLabels, secrets: secretsReferenced(file, job) }, mirrored };
}

/**
 * A job is runnable only when every job it needs is. act runs those in the same invocation (`--job` runs the
 * needed jobs first), so their runner labels and secrets are the job's too.
 */
function withNeeds(jobs: PlannedJob[], nodes: Map<string, JobView>): PlannedJob[] {
  const planned = new Map(jobs.map((job) => [job.jobId, job]));
  const settle = (job: PlannedJob, seen: Set<string>): PlannedJob => {
    if (!job.runnable) return job;
    const runnerLabels = [...job.runnerLabels];
    const secrets = [...job.secrets];
    for (const need of stringList(mapGet(nodes.get(job.jobId)?.node, 'needs'))) {
      const needed = planned.get(need);
      if (needed === undefined || seen.has(need)) return { workflowPath: job.workflowPath, jobId: job.jobId, runnable: false, reason: `it needs ${need}, which is not in the workflow or needs itself` };
      const settled = settle(needed, new Set([...seen, need]));
      if (!settled.runnable) return { workflowPath: job.workflowPath, jobId: job.jobId, runnable: false, reason: `it needs ${need}, which is not runnable` };
      runnerLabels.push(...settled.runnerLabels);
      secrets.push(...settled.secrets);
    }
    return { ...job, runnerLabels: [...new Set(runnerLabels)], secrets: [...new Set(secrets)].sort() };
  };
  return jobs.map((job) => settle(job, new Set([job.jobId])));
}

/**
 * Every job of one workflow file, in source order. `chain` is how the file was reached; `budget` is the calling
 * job's, absent for a top-level file, whose jobs get one each.
 */
function planJobsOf(file: WorkflowFile, options: PlanOptions, chain: readonly string[], budget?: CallBudget): JobsPlan {
  const jobs: PlannedJob[] = [];
  const nodes = new Map<string, JobView>();
  const mirrored: MirroredAction[] = [];
  for (const job of jobsOf(file)) {
    const planned = planJob(file, job, options, { chain, budget: budget ?? { callsLeft: MAX_CALLS } });
    jobs.push(planned.job);
    nodes.set(job.id, job);
    mirrored.push(...planned.mirrored);
  }
  return { jobs: withNeeds(jobs, nodes), mirrored };
}

/**
 * The jobs the event starts in the given workflow files, in file and source order. Branch and path filters of the
 * trigger are not evaluated: every job of a workflow the event triggers is planned. A workflow triggered only by
 * workflow_call runs through the jobs that call it.
 */
export function planCiRun(options: PlanOptions): CiRunPlan {
  const event = options.event ?? DEFAULT_EVENT;
  const jobs: PlannedJob[] = [];
  const mirrored = new Map<string, MirroredAction>();
  for (const workflowPath of options.workflowPaths) {
    const file = readWorkflow(options.checkoutDir, workflowPath);
    if (file === undefined || !triggersOf(file).has(event)) continue;
    const planned = planJobsOf(file, options, [localIdentity(file.path)]);
    jobs.push(...planned.jobs);
    for (const action of planned.mirrored) mirrored.set(action.action, action);
  }
  return { event, jobs, mirroredActions: [...mirrored.values()] };
}
