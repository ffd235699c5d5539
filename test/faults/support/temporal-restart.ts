/**
 * Restarts the Temporal dev server of a lifecycle harness on the same port and SQLite file, as an operator
 * restarting Temporal would: every workflow, timer and task queue survives in the file. The harness keeps its
 * server to itself, so the process is found as the child of this test process running `temporal server
 * start-dev` on the harness's database file, and stopped by its identity (pid and start time, never by name).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { commandLineOf, identityOf, type ProcessIdentity } from '../../../src/process/process-identity';
import { stopProcess } from '../../../src/process/pid-file';
import { type DevServer, startDevServer } from '../../../src/temporal/dev-server';
import { freePort } from '../../../src/util/free-port';
import type { LifecycleHarness } from '../../support/lifecycle';
import { sharedTestState } from '../../support/shared-state';

/** How long the server gets to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** The harness creates its dev server's SQLite file here (test/support/lifecycle.ts). */
export function harnessTemporalDatabase(harness: LifecycleHarness): string {
  return path.join(harness.scratch, 'temporal.db');
}

/** The parent pid of `pid` (field 4 of /proc/<pid>/stat), undefined when it cannot be read. */
async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may contain spaces: count after the last ')'.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function isDevServerOn(argv: readonly string[], dbFile: string): boolean {
  return argv[1] === 'server' && argv[2] === 'start-dev' && argv[argv.indexOf('--db-filename') + 1] === dbFile;
}

/** The dev server this process started on `dbFile`. */
async function devServerProcess(dbFile: string): Promise<ProcessIdentity> {
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isSafeInteger(pid) || pid <= 0) continue;
    const argv = await commandLineOf(pid);
    if (!argv || !isDevServerOn(argv, dbFile) || (await parentOf(pid)) !== process.pid) continue;
    const identity = await identityOf(pid);
    if (identity) return identity;
  }
  throw new Error(`No Temporal dev server started by this process runs on ${dbFile}.`);
}

export interface TemporalRestart {
  /** The server that runs now; the test stops it after the harness closed. */
  server: DevServer;
  /** Seconds from the stop signal until the new server answered. */
  downSeconds: number;
}

/**
 * Stops the harness's dev server (SIGTERM, then SIGKILL after the grace time) and starts a new one on the same
 * port and database file. `dynamicConfig` must be the harness's, or the new server behaves differently.
 */
export async function restartHarnessTemporal(harness: LifecycleHarness, dynamicConfig?: Readonly<Record<string, unknown>>): Promise<TemporalRestart> {
  const dbFile = harnessTemporalDatabase(harness);
  const running = await devServerProcess(dbFile);
  const stoppedAt = Date.now();
  await stopProcess(running, 'SIGTERM', STOP_GRACE_MS);
  const port = Number(new URL(`http://${harness.config.temporal.address}`).port);
  const server = await startDevServer({
    cliPath: sharedTestState().temporalCli,
    dbFile,
    port,
    uiPort: await freePort(),
    namespace: harness.config.temporal.namespace,
    ...(dynamicConfig ? { dynamicConfig } : {}),
  });
  return { server, downSeconds: (Date.now() - stoppedAt) / 1000 };
}
