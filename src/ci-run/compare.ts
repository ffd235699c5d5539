/**
 * Compares a job's runs without and with a patch. Only a job that passed before and fails after is the patch's
 * fault and blocks it; a job that was already red is reported and does not block, and a job act cannot run here
 * is reported with the reason.
 */
import type { JobRunResult, StepResult } from './results';

/** How one job ended on one checkout: its runs (one per matrix variant), or why it was not run. */
export type JobOutcome =
  | { workflowPath: string; jobId: string; runnable: true; runs: JobRunResult[] }
  | { workflowPath: string; jobId: string; runnable: false; reason: string };

/** The first failing step of a run the patch broke, to name in the stage's failure. */
export interface BrokenStep {
  runName: string;
  stepId: string;
  stepName: string;
  logExcerpt: string;
}

export type JobComparison = { workflowPath: string; jobId: string } & (
  | { verdict: 'passed' }
  | { verdict: 'still-failing' }
  | { verdict: 'fixed' }
  | { verdict: 'broken'; brokenSteps: BrokenStep[] }
  | { verdict: 'not-runnable'; reason: string }
);

export interface CiRunComparison {
  jobs: JobComparison[];
  /** True when some job passed without the patch and fails with it. */
  blocking: boolean;
}

function passed(runs: readonly JobRunResult[]): boolean {
  return runs.length > 0 && runs.every((run) => run.outcome === 'success');
}

function firstFailedStep(steps: readonly StepResult[]): StepResult | undefined {
  // act's own "Complete job" step succeeds after a failed one; the step to name is the first that failed.
  return steps.find((step) => step.outcome === 'failure');
}

function brokenSteps(after: readonly JobRunResult[]): BrokenStep[] {
  return after.flatMap((run) => {
    if (run.outcome === 'success') return [];
    const step = firstFailedStep(run.steps);
    return [{ runName: run.runName, stepId: step?.stepId ?? '', stepName: step?.name ?? '(no step failed: act ended the run)', logExcerpt: step?.logExcerpt ?? '' }];
  });
}

function compareJob(before: JobOutcome | undefined, after: JobOutcome): JobComparison {
  const job = { workflowPath: after.workflowPath, jobId: after.jobId };
  if (!after.runnable) return { ...job, verdict: 'not-runnable', reason: after.reason };
  if (before !== undefined && !before.runnable) return { ...job, verdict: 'not-runnable', reason: `without the patch: ${before.reason}` };
  const passedAfter = passed(after.runs);
  // A job the patch adds has no "before": it must pass on its own.
  const passedBefore = before === undefined || passed(before.runs);
  if (passedAfter) return { ...job, verdict: passedBefore ? 'passed' : 'fixed' };
  return passedBefore ? { ...job, verdict: 'broken', brokenSteps: brokenSteps(after.runs) } : { ...job, verdict: 'still-failing' };
}

/** Per job of the patched checkout (jobs the patch removed are not run after, so there is nothing to compare). */
export function compareCiRuns(before: readonly JobOutcome[], after: readonly JobOutcome[]): CiRunComparison {
  const beforeByJob = new Map(before.map((outcome) => [`${outcome.workflowPath}\n${outcome.jobId}`, outcome]));
  const jobs = after.map((outcome) => compareJob(beforeByJob.get(`${outcome.workflowPath}\n${outcome.jobId}`), outcome));
  return { jobs, blocking: jobs.some((job) => job.verdict === 'broken') };
}
