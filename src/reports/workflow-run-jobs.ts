/**
 * The workflow-run stage's compared jobs, read from a stored test run's details for reports: per job its verdict,
 * the step that failed and the end of that step's log. Details are read defensively (stages of other versions
 * stored other shapes): what does not match is left out, never a failed report.
 */
import { z } from 'zod';
import type { JobComparison } from '../ci-run/compare';
import { type Excerpt, tailExcerpt } from './excerpt';

const VERDICTS = ['passed', 'still-failing', 'fixed', 'broken', 'not-runnable'] as const satisfies ReadonlyArray<JobComparison['verdict']>;

/** Characters of a failing step's log a report keeps (the stage stores excerpts already; this bounds the report). */
const STEP_LOG_CHARS = 1_500;

const storedStep = z.object({ name: z.string(), outcome: z.string(), logExcerpt: z.string().optional() });
const storedRun = z.object({ steps: z.array(storedStep) });
const storedJob = z.object({
  workflowPath: z.string(),
  jobId: z.string(),
  verdict: z.enum(VERDICTS),
  reason: z.string().optional(),
  brokenSteps: z.array(z.object({ stepName: z.string(), logExcerpt: z.string() })).optional(),
  before: z.array(storedRun).default([]),
  after: z.array(storedRun).default([]),
});
const storedDetails = z.object({ status: z.literal('ran'), jobs: z.array(storedJob) });

export interface WorkflowRunJob {
  workflowPath: string;
  jobId: string;
  verdict: JobComparison['verdict'];
  /** The step that failed: the one the patch broke, else the first failing step with the patch, else without it. */
  failingStep: string | null;
  failingStepLog: Excerpt | null;
  /** Why the job could not run here (verdict `not-runnable`). */
  reason: string | null;
}

function firstFailure(runs: ReadonlyArray<z.infer<typeof storedRun>>): { stepName: string; logExcerpt: string } | undefined {
  const step = runs.flatMap((run) => run.steps).find((candidate) => candidate.outcome === 'failure');
  return step ? { stepName: step.name, logExcerpt: step.logExcerpt ?? '' } : undefined;
}

/** The compared jobs of a workflow-run test run, or null when the stage was skipped or stored another shape. */
export function workflowRunJobs(details: Record<string, unknown>): WorkflowRunJob[] | null {
  const parsed = storedDetails.safeParse(details);
  if (!parsed.success) return null;
  return parsed.data.jobs.map((job) => {
    const failure = job.brokenSteps?.[0] ?? firstFailure(job.after) ?? firstFailure(job.before);
    return {
      workflowPath: job.workflowPath,
      jobId: job.jobId,
      verdict: job.verdict,
      failingStep: failure?.stepName ?? null,
      failingStepLog: failure ? tailExcerpt(failure.logExcerpt, STEP_LOG_CHARS) : null,
      reason: job.reason ?? null,
    };
  });
}
