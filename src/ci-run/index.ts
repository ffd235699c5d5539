/**
 * Public API of the ci-run domain module: picks the workflow files a patch affects, runs a target's own CI jobs in
 * them with nektos/act inside the sandbox, without and with the patch, and compares them per job. The workflow-run
 * test stage (src/patching/workflow-run-stage.ts) uses it.
 */
export { type ActBinary, actBinaryPath, resolveActBinary } from './act-binary';
export { affectedWorkflows } from './affected';
export { compareCiRuns, type CiRunComparison, type JobComparison, type JobOutcome } from './compare';
export { eventPayload, RUNNABLE_EVENTS, type RunnableEvent } from './events';
export { ACT_ERROR_STEP_ID, runPlannedJobs, type RunJobOptions, type RunnableJob } from './invoke';
export { type CiRunPlan, planCiRun, type PlannedJob } from './plan';
export type { JobRunResult, StepResult } from './results';
