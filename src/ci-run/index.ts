/**
 * Public API of the ci-run domain module: runs a target's own CI jobs with nektos/act inside the sandbox, without
 * and with a patch, and compares them per job. Not yet part of the patch lifecycle (issue #10).
 */
export { type ActBinary, resolveActBinary } from './act-binary';
export { compareCiRuns, type CiRunComparison, type JobComparison, type JobOutcome } from './compare';
export { runPlannedJobs, type RunJobOptions } from './invoke';
export { type CiRunPlan, planCiRun, type PlannedJob } from './plan';
export type { JobRunResult, StepResult } from './results';
