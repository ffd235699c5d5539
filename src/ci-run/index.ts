/**
 * Public API of the ci-run domain module: runs a target's own CI jobs with nektos/act inside the sandbox, without
 * and with a patch, and compares them per job. The workflow-run test stage (src/patching/workflow-run-stage.ts) uses it.
 */
export { type ActBinary, actBinaryPath, resolveActBinary } from './act-binary';
export { compareCiRuns, type CiRunComparison, type JobComparison, type JobOutcome } from './compare';
export { eventPayload, RUNNABLE_EVENTS, type RunnableEvent } from './events';
export { ACT_ERROR_STEP_ID, runPlannedJobs, type RunJobOptions, type RunnableJob } from './invoke';
export { type CiRunPlan, planCiRun, type PlannedJob } from './plan';
export type { JobRunResult, StepResult } from './results';
