/**
 * Runs `temporal server start-dev` as a child process: SQLite file persistence, Web UI on, the project's search
 * attributes registered. Used by the all-in-one starter (and end-to-end tests); production points
 * TEMPORAL_ADDRESS at a real cluster instead. With a pid file, a server that a crashed run left on the same
 * database file is stopped first: it would hold the ports and the SQLite file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { type PidRecord, removePidFile, runningRecordedProcess, stopProcess, writePidFile } from '../process/pid-file';
import { devServerSearchAttributeArgs } from './search-attributes';

export interface DevServerOptions {
  cliPath: string;
  dbFile: string;
  port: number;
  uiPort: number;
  namespace: string;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
  /** Where the server's pid is recorded (pid-file.ts) while it runs; the starter keeps it in its data folder. */
  pidFile?: string;
  /** Dynamic configuration values (`--dynamic-config-value KEY=JSON`), e.g. a small history limit in tests. */
  dynamicConfig?: Readonly<Record<string, unknown>>;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop: () => Promise<void>;
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  return Promise.race([exited, delay(timeoutMs).then(() => false)]);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child, 8_000))) {
    child.kill('SIGKILL');
    await waitForExit(child, 2_000);
  }
}

/** Whether `argv` is `temporal server start-dev` on `dbFile`. */
function isDevServerOn(argv: readonly string[], dbFile: string): boolean {
  return argv[1] === 'server' && argv[2] === 'start-dev' && argv.includes('--db-filename') && argv[argv.indexOf('--db-filename') + 1] === dbFile;
}

/**
 * Stops the dev server recorded in `pidFile` when it is provably the one an earlier run started on `dbFile`: the
 * process runs with the recorded identity and command line, and that command line is a dev server on `dbFile`.
 */
async function stopLeftoverServer(pidFile: string, dbFile: string, log: (line: string) => void): Promise<void> {
  const leftover = await runningRecordedProcess(pidFile);
  if (!leftover || !isDevServerOn(leftover.argv, dbFile)) return;
  log(`stopping the Temporal dev server (pid ${leftover.pid}) left running on ${dbFile} by an earlier run`);
  await stopProcess(leftover, 'SIGTERM', 8_000);
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const log = options.log ?? (() => undefined);
  await fs.mkdir(path.dirname(options.dbFile), { recursive: true });
  if (options.pidFile) await stopLeftoverServer(options.pidFile, options.dbFile, log);
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(options.port),
    '--ui-port', String(options.uiPort),
    '--db-filename', options.dbFile,
    '--log-level', 'warn',
    '--sqlite-pragma', 'journal_mode=wal',
    ...(options.namespace === 'default' ? [] : ['--namespace', options.namespace]),
    ...devServerSearchAttributeArgs(),
    ...Object.entries(options.dynamicConfig ?? {}).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
  ];
  // Its own process group: a terminal's Ctrl-C reaches only us, and we stop the server after the worker drained.
  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) log(line.trim());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const { pidFile } = options;
  // Undefined when the server failed to start: the loop below reports why.
  const record: PidRecord | undefined = pidFile && child.pid !== undefined ? await writePidFile(pidFile, child.pid) : undefined;
  const stop = async (): Promise<void> => {
    await stopChild(child);
    if (pidFile && record) await removePidFile(pidFile, record);
  };

  const address = `127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`temporal server start-dev exited with code ${child.exitCode}: ${output.trim().split('\n').slice(-3).join(' | ')}`);
    }
    const failed = await Promise.race([spawnError, delay(0).then(() => undefined)]);
    if (failed) throw new Error(`could not run ${options.cliPath}: ${failed.message}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1s' });
      try {
        await connection.workflowService.describeNamespace({ namespace: options.namespace });
        break;
      } finally {
        await connection.close();
      }
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`temporal dev server did not become ready on ${address} within ${options.readyTimeoutMs ?? 60_000} ms`);
      }
      await delay(250);
    }
  }
  return { address, uiUrl: `http://127.0.0.1:${options.uiPort}`, stop };
}
