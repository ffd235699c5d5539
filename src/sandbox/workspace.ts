/**
 * The private directory of one sandboxed run under config.sandbox.dir: a copy of the checkout (with .git) that the
 * command may change, owned by the sandbox user. The checkout itself usually lives where that user cannot go (a
 * 0700 work folder of the worker), and bwrap running as that user must reach what it binds.
 */
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { createOwnedFolder, removeFoldersOfGoneOwners } from '../process/owned-folders';
import { runProcess } from '../process/run-command';
import type { SandboxConfig } from './command-line';

const RUN_DIR_PREFIX = 'run-';
/** Copying a checkout takes seconds; this only stops a copy that hangs (e.g. a stuck network file system). */
const COPY_TIMEOUT_MS = 10 * 60_000;
/** cp and chown get only a PATH: they need nothing else of the worker's environment. */
const TOOL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Creates config.dir if needed and checks that nobody else controls it: whoever owns it could swap a run's
 * directory between the copy and the bind. As root it is 0711, so the sandbox user reaches its own run directory
 * but cannot list the others.
 */
export async function ensureSandboxDir(config: SandboxConfig): Promise<void> {
  await mkdir(config.dir, { recursive: true, mode: 0o711 });
  const problem = await sandboxDirProblem(config);
  if (problem) throw new Error(problem);
  if (isRoot()) await chmod(config.dir, 0o711);
}

/** Why config.dir (which exists) cannot be trusted, or undefined when this worker alone controls it. */
async function sandboxDirProblem(config: SandboxConfig): Promise<string | undefined> {
  const stats = await lstat(config.dir);
  if (!stats.isDirectory()) return `the sandbox directory ${config.dir} (SANDBOX_DIR) is not a directory`;
  const owner = process.getuid?.();
  if (owner !== undefined && stats.uid !== owner) return `the sandbox directory ${config.dir} (SANDBOX_DIR) belongs to uid ${stats.uid}, not to this worker (uid ${owner})`;
  return undefined;
}

/** A fresh, empty run directory, named after this process: 0700, owned by the sandbox user when the worker is root. */
export async function createRunDir(config: SandboxConfig): Promise<string> {
  await ensureSandboxDir(config);
  const runDir = await createOwnedFolder(config.dir, RUN_DIR_PREFIX);
  await chmod(runDir, 0o700);
  if (isRoot()) await runTool(['chown', `${config.uid}:${config.gid}`, '--', runDir], 'handing the run directory to the sandbox user');
  return runDir;
}

/** A run directory holding a copy of `sourceDir` (its contents, .git included), all owned by the sandbox user. */
export async function createWorkspace(sourceDir: string, config: SandboxConfig, signal?: AbortSignal): Promise<string> {
  const runDir = await createRunDir(config);
  try {
    // -a keeps modes, timestamps and symlinks as they are (never followed: a link to /etc/shadow stays a link).
    // `dir/.` copies the folder's contents (path.join would normalize the `.` away and copy the folder itself).
    await runTool(['cp', '-a', '--', `${path.resolve(sourceDir)}/.`, runDir], 'copying the checkout into the sandbox', signal);
    if (isRoot()) {
      await runTool(['chown', '-R', '--no-dereference', `${config.uid}:${config.gid}`, '--', runDir], 'handing the checkout copy to the sandbox user', signal);
    }
    // cp -a gave the run directory the checkout's mode.
    await chmod(runDir, 0o700);
    return runDir;
  } catch (error) {
    await removeRunDir(runDir);
    throw error;
  }
}

/**
 * Removes a run directory, whatever the command left in it. A worker that is not root may first have to give
 * itself access to folders the command made unreadable (the sandbox user is the worker's own uid then).
 */
export async function removeRunDir(runDir: string): Promise<void> {
  if (!path.basename(runDir).startsWith(RUN_DIR_PREFIX)) throw new Error(`not a sandbox run directory: ${runDir}`);
  try {
    await rm(runDir, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    if (isRoot()) throw error;
    await runTool(['chmod', '-R', 'u+rwx', '--', runDir], 'making the run directory removable');
    await rm(runDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/**
 * Removes the run directories whose creating process has ended (a worker killed while a command ran). A sandbox
 * directory this worker does not control is left alone: ensureSandboxDir refuses it when a command is to run.
 */
export async function removeStaleRunDirs(config: SandboxConfig): Promise<string[]> {
  if (!existsSync(config.dir) || (await sandboxDirProblem(config))) return [];
  return removeFoldersOfGoneOwners(config.dir, RUN_DIR_PREFIX, removeRunDir);
}

async function runTool(argv: readonly string[], purpose: string, signal?: AbortSignal): Promise<void> {
  const result = await runProcess(argv, { cwd: '/', env: TOOL_ENV, timeoutMs: COPY_TIMEOUT_MS, signal });
  if (result.exitCode === 0) return;
  const stderr = result.stderr.toString('utf8').trim();
  let reason: string;
  if (result.startError !== undefined) reason = result.startError.message;
  else if (result.timedOut) reason = `it took longer than ${COPY_TIMEOUT_MS / 60_000} minutes`;
  else reason = stderr || `${argv[0]} ended with ${result.exitCode === null ? result.signal : `exit code ${result.exitCode}`}`;
  throw new Error(`${purpose} failed: ${reason}`);
}
