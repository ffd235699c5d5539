/**
 * Runs user-configured commands (verify commands, command health checks) inside bubblewrap, on a private copy of
 * a checkout, as an unprivileged user, with an empty environment, no network unless the target allows it, and
 * resource limits. Without a working bubblewrap it refuses, unless the worker explicitly allows unsandboxed runs
 * (development machines).
 */
import { constants as fsConstants } from 'node:fs';
import { access, lstat, mkdtemp, readlink, rm } from 'node:fs/promises';
import os, { constants as osConstants } from 'node:os';
import path from 'node:path';
import { DEFAULT_SANDBOX_SETTINGS, type SandboxSettings } from '../domain/types';
import { type ProcessResult, runCommand, type RunCommandResult, runProcess, toCommandResult } from '../process/run-command';
import { SANDBOX_PATH, type SandboxConfig, sandboxCommandLine, type SandboxTools, type SystemFolder, WORKSPACE_PATH } from './command-line';
import { createRunDir, createWorkspace, isRoot, removeRunDir } from './workspace';

/** The top-level folders the sandbox shows read-only, as the host has them (merged-/usr symlinks or folders). */
const SYSTEM_FOLDERS = ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib64'];
/** The probe runs `true`; a sandbox that needs longer than this to start is not usable. */
const PROBE_TIMEOUT_MS = 30_000;
/** setpriv and bwrap get only a PATH: nothing of the worker's environment, not even for the launcher. */
const LAUNCHER_ENV = { PATH: SANDBOX_PATH };
/** The first line of stderr when the sandbox, not the command, failed: prlimit could not exec the command, or setup failed. */
const LAUNCHER_FAILURE = /^(?:prlimit: (failed to execute .*)|((?:setpriv|bwrap): .*))$/;
const UNSANDBOXED_HINT = 'or set ALLOW_UNSANDBOXED_COMMANDS=true on a development machine';

export type Isolation = 'bubblewrap' | 'unsandboxed';

export interface RunSandboxedOptions {
  /** The checkout the command works in; the command gets a private copy, so the checkout itself never changes. */
  sourceDir: string;
  /** The target's settings: network access and the only variables the command gets. */
  settings: SandboxSettings;
  config: SandboxConfig;
  /** Wall-clock limit; on expiry the sandbox is killed with everything in it. */
  timeoutMs: number;
  /** Kills the sandbox; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Bytes kept per output stream (see runProcess). */
  maxOutputBytes?: number;
  /**
   * Host paths this run alone sees read-only, at the same place, besides config.readOnlyPaths: tools and inputs
   * the worker provides (the act binary, the action mirror, an event file). The sandbox user must be able to read them.
   */
  readOnlyPaths?: readonly string[];
  /**
   * Start the command in an empty folder instead of the checkout copy, for tools that read options from files in
   * their working directory (act's `.actrc`), so the checkout cannot add to them. The argv then reaches the checkout
   * through the path it is given (see SandboxedArgv).
   */
  startOutsideCheckout?: boolean;
}

/** An argv, or one built from where the checkout copy is (inside the sandbox, or the checkout itself when unsandboxed). */
export type SandboxedArgv = readonly string[] | ((checkoutPath: string) => readonly string[]);

export interface SandboxedResult extends RunCommandResult {
  isolation: Isolation;
  /** How the command ran, as a sentence for its log. */
  isolationNote: string;
}

/** bubblewrap is missing or cannot create a sandbox, and unsandboxed runs are not allowed; the message says the fix. */
export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

type Availability =
  | { available: true; tools: SandboxTools; systemFolders: SystemFolder[] }
  | { available: false; problem: string; refusal: string };

/** One probe per sandbox configuration and process: whether bwrap works does not change while the worker runs. */
const probes = new Map<string, Promise<Availability>>();

/** An executable file at `name` (a path), or named `name` in a folder of the system PATH. */
async function findExecutable(name: string): Promise<string | undefined> {
  const candidates = name.includes('/') ? [path.resolve(name)] : SANDBOX_PATH.split(':').map((folder) => path.join(folder, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await lstat(candidate)).isDirectory()) continue;
      return candidate;
    } catch {
      // Not there, or not executable: try the next folder.
    }
  }
  return undefined;
}

async function inspectSystemFolders(): Promise<SystemFolder[]> {
  const folders: SystemFolder[] = [];
  for (const folder of SYSTEM_FOLDERS) {
    const stats = await lstat(folder).catch(() => undefined);
    if (stats?.isSymbolicLink()) folders.push({ path: folder, kind: 'symlink', target: await readlink(folder) });
    else if (stats?.isDirectory()) folders.push({ path: folder, kind: 'directory' });
  }
  return folders;
}

function notInstalled(): Availability {
  return {
    available: false,
    problem: 'bubblewrap is not installed on this worker',
    refusal: `commands run only inside bubblewrap, which is not installed on this worker: install the package bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), ${UNSANDBOXED_HINT}`,
  };
}

function cannotSandbox(reason: string): Availability {
  return {
    available: false,
    problem: `bubblewrap cannot create a sandbox on this worker (${reason})`,
    refusal:
      `commands run only inside bubblewrap, which cannot create a sandbox on this worker (${reason}): fix that ` +
      `(bubblewrap 0.8 or later and util-linux are needed, and unprivileged user namespaces must be allowed: sysctl ` +
      `kernel.unprivileged_userns_clone=1 and user.max_user_namespaces above 0), ${UNSANDBOXED_HINT}`,
  };
}

/** Why the sandboxed `true` of the probe failed: bwrap's or setpriv's own message when there is one. */
function probeFailure(result: ProcessResult): string {
  if (result.startError !== undefined) return result.startError.message;
  const firstLine = result.stderr.toString('utf8').trim().split('\n')[0];
  if (firstLine) return firstLine;
  return result.timedOut ? 'a sandboxed `true` timed out' : `a sandboxed \`true\` ended with ${result.exitCode ?? result.signal ?? 'an unknown status'}`;
}

async function probeBubblewrap(config: SandboxConfig): Promise<Availability> {
  const bwrap = await findExecutable(config.bwrapPath ?? 'bwrap');
  if (bwrap === undefined) return notInstalled();
  const prlimit = await findExecutable('prlimit');
  if (prlimit === undefined) return cannotSandbox('prlimit of util-linux is not installed');
  let tools: SandboxTools = { bwrap, prlimit };
  if (isRoot()) {
    const setpriv = await findExecutable('setpriv');
    if (setpriv === undefined) return cannotSandbox('setpriv of util-linux is not installed');
    tools = { ...tools, setpriv };
  }
  try {
    const systemFolders = await inspectSystemFolders();
    // A real run in a real run directory: it also proves that the sandbox user reaches config.dir.
    const runDir = await createRunDir(config);
    try {
      const commandLine = sandboxCommandLine(['true'], { tools, systemFolders, runDir, settings: DEFAULT_SANDBOX_SETTINGS, config });
      const result = await runProcess(commandLine, { cwd: '/', env: LAUNCHER_ENV, timeoutMs: PROBE_TIMEOUT_MS });
      if (result.exitCode !== 0) return cannotSandbox(probeFailure(result));
    } finally {
      await removeRunDir(runDir);
    }
    return { available: true, tools, systemFolders };
  } catch (error) {
    return cannotSandbox(error instanceof Error ? error.message : String(error));
  }
}

/** Whether commands can run in bubblewrap with this configuration; probed once per process. */
function bubblewrapAvailability(config: SandboxConfig): Promise<Availability> {
  const key = JSON.stringify(config);
  let probe = probes.get(key);
  if (probe === undefined) {
    probe = probeBubblewrap(config);
    probes.set(key, probe);
  }
  return probe;
}

/** The signal behind an exit code of 128 + n, which is how bwrap (like a shell) reports a command killed by signal n. */
function signalOf(exitCode: number | null): NodeJS.Signals | undefined {
  if (exitCode === null || exitCode <= 128) return undefined;
  return (Object.keys(osConstants.signals) as NodeJS.Signals[]).find((name) => osConstants.signals[name] === exitCode - 128);
}

/** The launcher's result as the command's: sandbox failures become start errors, 128 + n becomes signal n. */
function commandResult(processResult: ProcessResult): RunCommandResult {
  const result = toCommandResult(processResult);
  if (result.exitCode === null) return result;
  const failure = LAUNCHER_FAILURE.exec(result.stderr.split('\n', 1)[0] ?? '');
  if (failure !== null && [1, 126, 127].includes(result.exitCode)) {
    return { ...result, exitCode: null, startError: failure[1] ?? failure[2] ?? '' };
  }
  const signal = signalOf(result.exitCode);
  return signal === undefined ? result : { ...result, exitCode: null, signal };
}

/**
 * Runs `argv` (no shell) in a sandbox on a private copy of `options.sourceDir`, removed afterwards whatever happens.
 * Resolves for every outcome of the command; rejects when `signal` aborts the run, when copying the checkout fails,
 * and with SandboxUnavailableError when bubblewrap does not work here and unsandboxed runs are not allowed.
 */
export async function runSandboxed(sandboxedArgv: SandboxedArgv, options: RunSandboxedOptions): Promise<SandboxedResult> {
  const argvFor = (checkoutPath: string): readonly string[] => {
    const argv = typeof sandboxedArgv === 'function' ? sandboxedArgv(checkoutPath) : sandboxedArgv;
    if (argv.length === 0 || argv[0] === '') throw new Error('runSandboxed: argv must not be empty');
    return argv;
  };
  const availability = await bubblewrapAvailability(options.config);
  const { timeoutMs, signal, maxOutputBytes } = options;
  if (!availability.available) {
    if (!options.config.allowUnsandboxed) throw new SandboxUnavailableError(availability.refusal);
    const argv = argvFor(options.sourceDir);
    const emptyDir = options.startOutsideCheckout === true ? await mkdtemp(path.join(os.tmpdir(), 'wpa-unsandboxed-')) : undefined;
    try {
      const result = await runCommand(argv, { cwd: emptyDir ?? options.sourceDir, env: options.settings.env, timeoutMs, signal, maxOutputBytes });
      return { ...result, isolation: 'unsandboxed', isolationNote: `ran WITHOUT a sandbox: ${availability.problem}, and ALLOW_UNSANDBOXED_COMMANDS=true` };
    } finally {
      if (emptyDir !== undefined) await rm(emptyDir, { recursive: true, force: true });
    }
  }
  const argv = argvFor(WORKSPACE_PATH);
  const runDir = await createWorkspace(options.sourceDir, options.config, signal);
  try {
    const { tools, systemFolders } = availability;
    const commandLine = sandboxCommandLine(argv, {
      tools,
      systemFolders,
      runDir,
      settings: options.settings,
      config: options.config,
      runReadOnlyPaths: options.readOnlyPaths,
      startOutsideCheckout: options.startOutsideCheckout,
    });
    const result = await runProcess(commandLine, { cwd: '/', env: LAUNCHER_ENV, timeoutMs, signal, maxOutputBytes });
    const network = options.settings.network ? 'with network access' : 'without network access';
    return { ...commandResult(result), isolation: 'bubblewrap', isolationNote: `ran in bubblewrap as uid ${options.config.uid}, ${network}` };
  } finally {
    await removeRunDir(runDir);
  }
}
