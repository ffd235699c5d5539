/**
 * The workflow-run test stage: the jobs the target's event (a push unless it chose another) starts in the workflow
 * files the patch affects run with act in the sandbox, once on the unpatched checkout and once on the patched one.
 * Affected are the workflow files it changes, those calling a reusable workflow it changes and those using a local
 * action it changes (ci-run/affected.ts). A job that passed before and fails after fails the stage, naming the job,
 * the step and its log; jobs already red and jobs act cannot run here are reported.
 */
import path from 'node:path';
import { type ActBinary, affectedWorkflows, type CiRunComparison, compareCiRuns, type JobComparison, type JobOutcome, type JobRunResult, planCiRun, runPlannedJobs } from '../ci-run';
import { DEFAULT_EVENT } from '../ci-run/plan';
import type { Target } from '../domain/types';
import { applyDiff, changedFiles, discardChanges } from '../git';
import { type SandboxConfig, SandboxUnavailableError } from '../sandbox';
import { commandOutputForPeople } from '../security/redact';
import { boundLog, listedInSummary } from './stages';

export interface WorkflowRunContext {
  /**
   * A checkout of the target branch, unpatched and clean (the stage applies the diff to see what it affects and
   * resets the work tree after): the jobs run on it, then the stage applies the diff and runs them again.
   */
  dir: string;
  diff: string;
  /**
   * `workflowRunEvent`: the event whose jobs run (default push); `workflowRunCalledWorkflows`: whether a job calling
   * a reusable workflow runs, with the called workflow's jobs, and a changed reusable workflow makes its callers run
   * (default true).
   */
  target: Pick<Target, 'branch' | 'sandbox' | 'workflowRun' | 'workflowRunEvent' | 'workflowRunCalledWorkflows'>;
  sandbox: SandboxConfig;
  /** act, or why it is unavailable (the stage is then skipped). */
  act: ActBinary;
  actionMirrorDir?: string;
  /** Wall-clock budget of both runs together; the run without the patch gets at most half of it. */
  timeoutMs: number;
  signal?: AbortSignal;
  progress?: (step: string) => void;
}

export interface WorkflowRunOutcome {
  passed: boolean;
  summary: string;
  log: string;
  /** `status: 'skipped'` with the reason, or the compared jobs: what GET /patches/:id shows of the stage. */
  details: Record<string, unknown>;
}

/** Why the stage did not run on a target that switched it off: it needs no checkout to say so. */
export const SWITCHED_OFF = 'the target has workflowRun: false';

/** The passing outcome of a stage that did not run, with the reason. */
export function skipped(reason: string): WorkflowRunOutcome {
  return { passed: true, summary: `skipped: ${reason}`, log: `skipped: ${reason}`, details: { status: 'skipped', reason } };
}

/**
 * The workflow files both runs run: those the patch affects without it (its old paths, in the unpatched checkout)
 * and with it (its new paths, in the patched one). Each run takes all of them, so a workflow affected on one side
 * only (one using an action whose script the patch deletes) is still compared. The checkout is put back unpatched.
 */
async function workflowsToRun(context: WorkflowRunContext): Promise<string[]> {
  const changes = changedFiles(context.diff);
  const affected = (side: 'oldPath' | 'newPath'): string[] =>
    affectedWorkflows({ checkoutDir: context.dir, changedPaths: changes.flatMap((change) => change[side] ?? []), runCalledWorkflows: context.target.workflowRunCalledWorkflows ?? true });
  const before = affected('oldPath');
  await applyDiff(context.dir, context.diff, { signal: context.signal });
  try {
    return [...new Set([...before, ...affected('newPath')])].sort();
  } finally {
    await discardChanges(context.dir, { signal: context.signal });
  }
}

/** A run as the details keep it: every step's outcome and duration, the log excerpt of failed steps only. */
function runFacts(run: JobRunResult) {
  return {
    runName: run.runName,
    outcome: run.outcome,
    steps: run.steps.map((step) => ({
      stepId: step.stepId,
      name: step.name,
      outcome: step.outcome,
      durationMs: step.durationMs,
      ...(step.outcome === 'failure' ? { logExcerpt: step.logExcerpt } : {}),
    })),
  };
}

function runsOf(outcome: JobOutcome | undefined) {
  return outcome?.runnable === true ? outcome.runs.map(runFacts) : [];
}

function jobName(job: Pick<JobComparison, 'workflowPath' | 'jobId'>): string {
  return `${path.basename(job.workflowPath)} ${job.jobId}`;
}

/** One line per job, and for a broken one each failing step with its log excerpt. */
function jobLines(job: JobComparison): string[] {
  switch (job.verdict) {
    case 'passed':
      return [`${jobName(job)}: passed without and with the patch`];
    case 'fixed':
      return [`${jobName(job)}: failed without the patch, passes with it`];
    case 'still-failing':
      return [`${jobName(job)}: fails without and with the patch (not blocking)`];
    case 'not-runnable':
      return [`${jobName(job)}: not runnable here: ${job.reason}`];
    case 'broken':
      return [
        `${jobName(job)}: BROKEN by the patch (passed without it)`,
        ...job.brokenSteps.flatMap((step) => [`--- step "${step.stepName}" failed in ${step.runName} ---`, step.logExcerpt.trimEnd()]),
      ];
  }
}

/** The broken job's first failing step and the last line of its log, for the summary. */
function brokenText(job: Extract<JobComparison, { verdict: 'broken' }>): string {
  const step = job.brokenSteps[0];
  if (step === undefined) return `job ${jobName(job)} fails with the patch`;
  const lastLine = step.logExcerpt.trim().split('\n').at(-1) ?? '';
  return `job ${jobName(job)} fails with the patch at step "${step.stepName}"${lastLine === '' ? '' : ` (${lastLine.slice(0, 200)})`}`;
}

function comparisonSummary(comparison: CiRunComparison): string {
  const broken = comparison.jobs.flatMap((job) => (job.verdict === 'broken' ? [brokenText(job)] : []));
  if (broken.length > 0) return `${broken.length} job(s) that passed without the patch fail with it: ${listedInSummary(broken)}`;
  const count = (verdict: JobComparison['verdict']): number => comparison.jobs.filter((job) => job.verdict === verdict).length;
  const counts = [
    `${count('passed')} passed`,
    ...(count('fixed') > 0 ? [`${count('fixed')} fixed`] : []),
    ...(count('still-failing') > 0 ? [`${count('still-failing')} failing before and after (not blocking)`] : []),
    ...(count('not-runnable') > 0 ? [`${count('not-runnable')} not runnable here`] : []),
  ];
  return `${comparison.jobs.length} job(s) run without and with the patch: ${counts.join(', ')}`;
}

/**
 * Runs the stage on the unpatched checkout `context.dir` (which it leaves patched when it ran jobs). Skipped
 * (passed, with the reason) when the target switched it off, the patch affects no workflow, act is unavailable or
 * the sandbox does not work on this worker. Summary and log have the target's declared variables redacted.
 */
export async function runWorkflowRunStage(context: WorkflowRunContext): Promise<WorkflowRunOutcome> {
  if (context.target.workflowRun === false) return skipped(SWITCHED_OFF);
  const workflows = await workflowsToRun(context);
  if (workflows.length === 0) return skipped('the patch changes no workflow, called workflow or local action that a workflow uses');
  if (!context.act.available) return skipped(`act is unavailable: ${context.act.reason}`);
  const act = context.act;
  const event = context.target.workflowRunEvent ?? DEFAULT_EVENT;
  const startedAt = Date.now();
  const run = async (side: 'without' | 'with', deadline: number): Promise<JobOutcome[]> => {
    const plan = planCiRun({
      checkoutDir: context.dir,
      workflowPaths: workflows,
      actionMirrorDir: context.actionMirrorDir,
      event,
      runCalledWorkflows: context.target.workflowRunCalledWorkflows ?? true,
    });
    return runPlannedJobs({
      actPath: act.path,
      checkoutDir: context.dir,
      plan,
      branch: context.target.branch,
      actionMirrorDir: context.actionMirrorDir,
      settings: context.target.sandbox,
      config: context.sandbox,
      timeoutMs: context.timeoutMs,
      deadline,
      signal: context.signal,
      onJob: (job) => context.progress?.(`running ${jobName(job)} ${side} the patch`),
    });
  };
  let before: JobOutcome[];
  let after: JobOutcome[];
  try {
    before = await run('without', startedAt + context.timeoutMs / 2);
    await applyDiff(context.dir, context.diff, { signal: context.signal });
    after = await run('with', startedAt + context.timeoutMs);
  } catch (error) {
    if (error instanceof SandboxUnavailableError) return skipped(`the sandbox is unavailable: ${error.message}`);
    throw error;
  }
  const comparison = compareCiRuns(before, after);
  if (comparison.jobs.length === 0) return skipped(`no job of the affected workflows runs on ${event}, the event the target's jobs are run for`);
  const beforeByJob = new Map(before.map((outcome) => [`${outcome.workflowPath}\n${outcome.jobId}`, outcome]));
  const declared = context.target.sandbox.env;
  const details = {
    status: 'ran',
    workflows,
    blocking: comparison.blocking,
    durationMs: Date.now() - startedAt,
    jobs: comparison.jobs.map((job) => ({
      ...job,
      before: runsOf(beforeByJob.get(`${job.workflowPath}\n${job.jobId}`)),
      after: runsOf(after.find((outcome) => outcome.workflowPath === job.workflowPath && outcome.jobId === job.jobId)),
    })),
  };
  return {
    passed: !comparison.blocking,
    summary: commandOutputForPeople(comparisonSummary(comparison), declared),
    log: commandOutputForPeople(boundLog(comparison.jobs.flatMap(jobLines).join('\n')), declared),
    details,
  };
}
