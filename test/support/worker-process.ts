/**
 * The service's worker as a child process (dist/src/worker.js) connected to a lifecycle harness: what the
 * crash, liveness and fault tests start and SIGKILL.
 */
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { NO_ACTION_REPOSITORIES_URL } from './git-fixtures';
import type { LifecycleHarness } from './lifecycle';

export const WORKER_SCRIPT = path.join(__dirname, '..', '..', 'dist', 'src', 'worker.js');

/** Fails fast with the fix when the build output the worker process runs is missing. */
export function assertWorkerBuilt(): void {
  if (!existsSync(WORKER_SCRIPT)) throw new Error(`${WORKER_SCRIPT} is missing: npm test builds it (tsc) before jest runs`);
}

/** The environment of a worker process serving the harness's task queue, database and data folder. */
export function workerProcessEnv(harness: LifecycleHarness, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: harness.config.temporal.address,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    DATABASE_URL: harness.db.url,
    DATA_DIR: harness.scratch,
    LOG_LEVEL: 'warn',
    WORKER_SHUTDOWN_GRACE_SECONDS: '0',
    ALLOW_LOCAL_REPOS: 'true',
    ACTIONS_GIT_BASE_URL: NO_ACTION_REPOSITORIES_URL,
    ...extra,
  };
}

/** Starts a worker process for the harness. */
export function spawnWorkerProcess(harness: LifecycleHarness, options: { env?: Record<string, string>; stdio?: StdioOptions } = {}): ChildProcess {
  return spawn(process.execPath, [WORKER_SCRIPT], { env: workerProcessEnv(harness, options.env), stdio: options.stdio ?? 'ignore' });
}
