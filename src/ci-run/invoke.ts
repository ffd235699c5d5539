/**
 * Runs one planned job with act, inside the project's sandbox: act and the action mirror are visible read-only,
 * the checkout copy is the only writable place, the environment holds only the target's declared variables, and
 * there is no network unless the target opted in. act runs in host mode (every runner label maps to the sandbox
 * itself), offline, with a dummy value for each secret the job references. A job that calls a reusable workflow
 * runs the same way: act runs the called jobs as part of it, and the plan lists their labels and secrets with it.
 */
import { realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxSettings } from '../domain/types';
import { runSandboxed, type SandboxConfig, type SandboxedResult } from '../sandbox';
import { createRunDir, removeRunDir } from '../sandbox/workspace';
import type { JobOutcome } from './compare';
import { eventPayload } from './events';
import type { CiRunPlan, PlannedJob } from './plan';
import type { MirroredAction } from './references';
import { parseActLog, type JobRunResult } from './results';
import { commandOutputForPeople } from '../security/redact';

/** The value every referenced secret gets: steps that print it show this, never a real secret. */
export const DUMMY_SECRET = 'dummy';
/** act's JSON log of a job with a matrix runs to megabytes; the middle is dropped beyond this. */
const MAX_ACT_OUTPUT_BYTES = 8 * 1024 ** 2;
/** Characters of act's own error output kept when it ran nothing: the end, where its error is. */
const ACT_ERROR_EXCERPT_CHARS = 2_000;
/** The step id of the stand-in step that carries act's error when act reported no run of the job. */
export const ACT_ERROR_STEP_ID = '--act--';

export type RunnableJob = Extract<PlannedJob, { runnable: true }>;

export interface ActArgvOptions {
  actPath: string;
  /** Where act finds the checkout; act itself starts elsewhere, so a `.actrc` in the checkout adds no flags. */
  checkoutPath: string;
  event: string;
  eventFile: string;
  /** An empty file, read in place of the checkout's `.env`, `.secrets`, `.vars` and `.input`. */
  emptyFile: string;
  mirroredActions: readonly MirroredAction[];
}

/** The argv that runs `job` and the jobs it needs, as act sees them in the checkout at `checkoutPath`. */
export function actArgv(job: RunnableJob, options: ActArgvOptions): string[] {
  return [
    options.actPath,
    options.event,
    '--directory', options.checkoutPath,
    '--workflows', job.workflowPath,
    '--job', job.jobId,
    '--eventpath', options.eventFile,
    '--json',
    // Without these act would need Docker (images, its cache server's network address) or the internet.
    ...job.runnerLabels.flatMap((label) => ['--platform', `${label}=-self-hosted`]),
    '--action-offline-mode',
    '--no-cache-server',
    // act reads these from the checkout by default: the repository would choose its own secrets and variables.
    ...['--env-file', '--secret-file', '--var-file', '--input-file'].flatMap((flag) => [flag, options.emptyFile]),
    ...options.mirroredActions.flatMap((action) => ['--local-repository', `${action.action}=${action.dir}`]),
    ...['GITHUB_TOKEN', ...job.secrets].flatMap((name) => ['--secret', `${name}=${DUMMY_SECRET}`]),
  ];
}

export interface RunJobOptions {
  actPath: string;
  checkoutDir: string;
  plan: CiRunPlan;
  /** The branch the event is for (the event's `ref`). */
  branch: string;
  actionMirrorDir?: string;
  settings: SandboxSettings;
  config: SandboxConfig;
  /** Wall-clock limit of one job's act run. */
  timeoutMs: number;
  /** Epoch milliseconds by which the plan's runs end: jobs get what is left of it, and none starts after it. */
  deadline?: number;
  signal?: AbortSignal;
  /** Told which job is about to run (the activity heartbeats with it). */
  onJob?: (job: RunnableJob) => void;
}

export interface JobRun {
  runs: JobRunResult[];
  /** The sandboxed act process, for its exit status and stderr (act's own errors). */
  process: SandboxedResult;
}

/** Why act ran nothing, from its exit status and its own output (errors go to stderr, some to its JSON log). */
function actErrorText(result: SandboxedResult): string {
  const status = result.startError !== undefined
    ? `act could not start: ${result.startError}`
    : result.timedOut ? 'act timed out' : `act ended with ${result.exitCode ?? result.signal ?? 'an unknown status'} without running the job`;
  const output = `${result.stderr}\n${result.stdout}`.trim();
  return output === '' ? status : `${status}\n${output.slice(-ACT_ERROR_EXCERPT_CHARS)}`;
}

/**
 * A failed run standing for a job act did not run at all (a workflow it cannot parse, a sandbox that would not
 * start): its one step carries act's error, so the comparison names it instead of a run without steps.
 */
function actErrorRun(job: RunnableJob, result: SandboxedResult, declared: Readonly<Record<string, string>>): JobRunResult {
  return {
    jobId: job.jobId,
    runName: `${path.basename(job.workflowPath)}/${job.jobId}`,
    matrix: {},
    outcome: 'failure',
    steps: [{
      stepId: ACT_ERROR_STEP_ID,
      name: '(act did not run the job)',
      outcome: 'failure',
      durationMs: result.durationMs,
      logExcerpt: commandOutputForPeople(actErrorText(result), declared),
    }],
  };
}

/** Runs one job in a sandbox on a private copy of `checkoutDir` and reads its results from act's log. */
export async function runJob(job: RunnableJob, options: RunJobOptions): Promise<JobRun> {
  // The event file lives outside the checkout, so the copy act works on is exactly the checkout: in a run directory
  // of its own, which the sandbox user reaches and the next worker removes should this one be killed meanwhile.
  const eventDir = await createRunDir(options.config);
  try {
    const eventFile = path.join(eventDir, 'event.json');
    await writeFile(eventFile, JSON.stringify(eventPayload(options.plan.event, options.branch)), { mode: 0o644 });
    const emptyFile = path.join(eventDir, 'empty');
    await writeFile(emptyFile, '', { mode: 0o644 });
    // .tools may be a symlink; bwrap binds the file the path finally names.
    const actPath = await realpath(options.actPath);
    const argvFor = (checkoutPath: string): string[] =>
      actArgv(job, { actPath, checkoutPath, event: options.plan.event, eventFile, emptyFile, mirroredActions: options.plan.mirroredActions });
    const readOnlyPaths = [actPath, eventDir, ...(options.actionMirrorDir === undefined ? [] : [path.resolve(options.actionMirrorDir)])];
    const result = await runSandboxed(argvFor, {
      sourceDir: options.checkoutDir,
      settings: options.settings,
      config: options.config,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      maxOutputBytes: MAX_ACT_OUTPUT_BYTES,
      readOnlyPaths,
      startOutsideCheckout: true,
    });
    const stoppedBecause = result.timedOut ? `act timed out after ${Math.round(result.durationMs / 1000)} s and was stopped in this step` : undefined;
    const runs = parseActLog(result.stdout, job, options.settings.env, stoppedBecause);
    return { runs: runs.length > 0 ? runs : [actErrorRun(job, result, options.settings.env)], process: result };
  } finally {
    await removeRunDir(eventDir);
  }
}

/**
 * Every job of the plan, one after the other (the machine's cores go to one act at a time); not-runnable ones as
 * such, and those the deadline leaves no time for as not runnable with that reason.
 */
export async function runPlannedJobs(options: RunJobOptions): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  for (const job of options.plan.jobs) {
    if (!job.runnable) {
      outcomes.push(job);
      continue;
    }
    const timeLeftMs = options.deadline === undefined ? options.timeoutMs : options.deadline - Date.now();
    if (timeLeftMs <= 0) {
      outcomes.push({ workflowPath: job.workflowPath, jobId: job.jobId, runnable: false, reason: 'not run: the time for running jobs was used up' });
      continue;
    }
    options.onJob?.(job);
    const { runs } = await runJob(job, { ...options, timeoutMs: Math.min(options.timeoutMs, timeLeftMs) });
    outcomes.push({ workflowPath: job.workflowPath, jobId: job.jobId, runnable: true, runs });
  }
  return outcomes;
}
