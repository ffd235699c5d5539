/**
 * Reads act's `--json` log (one logrus entry per line) into per-run and per-step results. act names each matrix
 * variant of a job as its own run (`ci.yml/build-1`: the workflow's `name:` or file name, then the job's), marks the
 * end of a step with `stepResult` and `executionTime` (nanoseconds) and the end of a run with `jobResult`; a step's
 * output lines carry `raw_output`. The jobs of a workflow that a job calls are logged under their own ids, as runs
 * named `<calling job>/<called workflow>/<job>` (only the innermost caller: `call/b.yml/inner`, then
 * `nest/c.yml/deep` for a job `nest` of b.yml calling c.yml); the calling job has no run or step of its own, and
 * they are its runs here. Log excerpts are made fit to store and show (commandOutputForPeople) before they leave
 * this module.
 */
import { commandOutputForPeople } from '../security/redact';
import { escapeRegExp } from '../util/regexp';
import type { WorkflowCall } from './plan';

export type StepOutcome = 'success' | 'failure' | 'skipped';
export type RunOutcome = 'success' | 'failure';

/** Characters of output kept per step: the end of it, where failures show. */
const STEP_EXCERPT_CHARS = 2_000;

export interface StepResult {
  /** The step's `id:`, or its 0-based index as act numbers steps without one; `--setup-job`/`--complete-job` for act's own. */
  stepId: string;
  /** How act names the step (its name, or its command or action). */
  name: string;
  outcome: StepOutcome;
  durationMs: number;
  /** The end of the step's output and error messages, redacted. */
  logExcerpt: string;
}

/** One run of a job: the job itself, one variant of its matrix, or a job of a workflow it calls. */
export interface JobRunResult {
  jobId: string;
  /** act's name of the run: `<workflow>/<job>` plus `-<n>` for a matrix variant, `<job>/<called workflow>/<called job>` for a called one. */
  runName: string;
  matrix: Record<string, unknown>;
  /** failure also when act ended without saying how the run ended (killed, timed out). */
  outcome: RunOutcome;
  steps: StepResult[];
}

interface ActLogEntry {
  jobID?: string;
  job?: string;
  matrix?: Record<string, unknown>;
  msg?: string;
  level?: string;
  step?: string;
  stage?: string;
  stepID?: string[];
  stepid?: string[];
  stepResult?: string;
  jobResult?: string;
  executionTime?: number;
  raw_output?: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseEntry(line: string): ActLogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    // A line cut by output truncation, or a step's output that is not act's: not a log entry.
    return undefined;
  }
}

interface StepDraft {
  stepId: string;
  name: string;
  outcome: StepOutcome | undefined;
  durationNs: number;
  log: string;
}

interface RunDraft {
  runName: string;
  matrix: Record<string, unknown>;
  outcome: RunOutcome | undefined;
  steps: Map<string, StepDraft>;
}

function stepOutcome(text: string | undefined): StepOutcome | undefined {
  return text === 'success' || text === 'failure' || text === 'skipped' ? text : undefined;
}

/** The job whose runs are read: its id, and the workflows it calls (see WorkflowCall). */
export interface LoggedJob {
  jobId: string;
  calls?: readonly WorkflowCall[];
}

/** Whether a run name is one act gives the jobs of the calls: `<caller>[-<n>]/<workflow>/...`. */
function calledRunMatcher(calls: readonly WorkflowCall[]): (runName: string) => boolean {
  const patterns = calls.map((call) => {
    // act interpolates a `name:` with expressions: any text may stand where one was.
    const caller = call.callerName.split(/\$\{\{.*?\}\}/).map(escapeRegExp).join('.*');
    return new RegExp(`^${caller}(?:-\\d+)?/${escapeRegExp(call.workflowName)}/`);
  });
  return (runName) => patterns.some((pattern) => pattern.test(runName));
}

/**
 * The runs of `job` in act's log, in the order act started them: its own, or for a job that calls a reusable
 * workflow those of the called jobs (other jobs act ran because the job needs them are left out either way). A
 * composite action's inner steps count as their outer step (their output goes into its excerpt). `declared` are
 * the target's variables, redacted by name. `stoppedBecause` says why act was stopped, if it was: it ends the log
 * of the steps act never finished.
 */
export function parseActLog(stdout: string, job: LoggedJob, declared: Readonly<Record<string, string>> = {}, stoppedBecause?: string): JobRunResult[] {
  const isCalledRun = job.calls === undefined ? undefined : calledRunMatcher(job.calls);
  const runs = new Map<string, RunDraft>();
  for (const line of stdout.split('\n')) {
    const entry = parseEntry(line.trim());
    if (entry === undefined || typeof entry.job !== 'string') continue;
    const runName = entry.job.trim();
    if (isCalledRun === undefined ? entry.jobID !== job.jobId : !isCalledRun(runName)) continue;
    let run = runs.get(runName);
    if (run === undefined) {
      run = { runName, matrix: entry.matrix ?? {}, outcome: undefined, steps: new Map() };
      runs.set(runName, run);
    }
    // Two runs share a name when a called workflow calls another under a matrix: either failing fails it.
    if (entry.jobResult !== undefined && run.outcome !== 'failure') run.outcome = entry.jobResult === 'success' ? 'success' : 'failure';
    const stepPath = entry.stepID ?? entry.stepid;
    const stepId = stepPath?.[0];
    if (stepId === undefined) continue;
    let step = run.steps.get(stepId);
    if (step === undefined) {
      step = { stepId, name: entry.step ?? stepId, outcome: undefined, durationNs: 0, log: '' };
      run.steps.set(stepId, step);
    }
    const isOuterStep = stepPath?.length === 1;
    // Post steps report too; a step failed if any of its stages did.
    if (isOuterStep && entry.stepResult !== undefined && step.outcome !== 'failure') step.outcome = stepOutcome(entry.stepResult);
    if (isOuterStep && entry.executionTime !== undefined) step.durationNs += entry.executionTime;
    if (entry.raw_output === true || entry.level === 'error') step.log += entry.raw_output === true ? entry.msg ?? '' : `${entry.msg ?? ''}\n`;
  }
  return [...runs.values()].map((run) => ({
    jobId: job.jobId,
    runName: run.runName,
    matrix: run.matrix,
    outcome: run.outcome ?? 'failure',
    steps: [...run.steps.values()].map((step) => ({
      stepId: step.stepId,
      name: commandOutputForPeople(step.name, declared),
      // Steps act started but never finished (the run was killed) did not succeed.
      outcome: step.outcome ?? 'failure',
      durationMs: Math.round(step.durationNs / 1e6),
      logExcerpt: commandOutputForPeople(
        `${step.log}${step.outcome === undefined && stoppedBecause !== undefined ? `${step.log === '' || step.log.endsWith('\n') ? '' : '\n'}${stoppedBecause}\n` : ''}`.slice(-STEP_EXCERPT_CHARS),
        declared,
      ),
    })),
  }));
}
