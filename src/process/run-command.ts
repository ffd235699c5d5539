/**
 * Runs one program from an argv array, never through a shell, in its own process group, with a timeout and
 * bounded output. The one implementation behind the sandbox that runs verify commands and command health checks
 * (src/sandbox; runCommand, with text output and a minimal environment, is its unsandboxed fallback) and the git
 * CLI (runProcess: bytes, complete environment), so killing, truncation and environment hygiene are got right in
 * one place.
 */
import { spawn } from 'node:child_process';

export interface RunProcessOptions {
  cwd: string;
  /** The complete environment of the child: nothing is inherited implicitly. */
  env: Readonly<Record<string, string | undefined>>;
  /** Wall-clock limit; on expiry the whole process group is killed (see killGraceMs). */
  timeoutMs: number;
  /** Cancels the run: the process group is killed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Bytes kept per stream (default 64 KiB): the first and last halves, with a marker in between. */
  maxOutputBytes?: number;
  /** On timeout or abort the group gets SIGTERM, then SIGKILL after this many ms (default 1000). */
  killGraceMs?: number;
}

export interface ProcessResult {
  /** Exit code, or null when the process was killed by a signal or could not start. */
  exitCode: number | null;
  /** The signal that ended the process, if any. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Why the process could not start (e.g. `spawn nonexistent ENOENT`), when it did not. */
  startError?: Error;
  stdout: Buffer;
  stderr: Buffer;
  /** True when the stream was longer than maxOutputBytes and its middle was dropped. */
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

export interface RunCommandOptions extends Omit<RunProcessOptions, 'env'> {
  /**
   * Variables added to the minimal inherited environment. The child never inherits the full environment of
   * the worker (database URLs, tokens), only PATH, HOME, LANG, LC_ALL, TMPDIR and TZ, plus these.
   */
  env?: Readonly<Record<string, string>>;
}

export interface RunCommandResult extends Omit<ProcessResult, 'startError' | 'stdout' | 'stderr'> {
  /** Why the process could not start (e.g. `spawn nonexistent ENOENT`), when it did not. */
  startError?: string;
  stdout: string;
  stderr: string;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
const DEFAULT_KILL_GRACE_MS = 1_000;
/** How long to wait for stdout/stderr to close after the main process exited. */
const STDIO_CLOSE_GRACE_MS = 1_000;
const INHERITED_VARIABLES = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'] as const;

/** Keeps the head and the tail of a stream within a byte budget; the tail usually holds the error. */
class BoundedOutput {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private droppedBytes = 0;

  constructor(private readonly maxBytes: number) {}

  get truncated(): boolean {
    return this.droppedBytes > 0;
  }

  push(chunk: Buffer): void {
    const headBudget = Math.ceil(this.maxBytes / 2);
    let rest = chunk;
    if (this.headBytes < headBudget) {
      const taken = rest.subarray(0, headBudget - this.headBytes);
      this.head.push(taken);
      this.headBytes += taken.length;
      rest = rest.subarray(taken.length);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    const tailBudget = this.maxBytes - headBudget;
    while (this.tailBytes > tailBudget) {
      const first = this.tail[0];
      if (first === undefined) break;
      const excess = this.tailBytes - tailBudget;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.droppedBytes += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.droppedBytes += excess;
      }
    }
  }

  contents(): Buffer {
    const marker = this.truncated ? [Buffer.from(`\n[... ${this.droppedBytes} bytes truncated ...]\n`)] : [];
    return Buffer.concat([...this.head, ...marker, ...this.tail]);
  }
}

/** Picks the named variables of the worker's environment that are set. */
export function pickEnv(names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = process.env[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

/** Something that runs processes for this one: the process spawner (src/process/spawner.ts) of a worker. */
export interface ProcessLauncher {
  run(argv: readonly string[], options: RunProcessOptions): Promise<ProcessResult>;
}

let launcher: ProcessLauncher | undefined;

/**
 * Routes every runProcess of this process through `next` (undefined: spawn here again). A worker does this because
 * on Linux each spawn forks the calling process, freezing its event loop for a time that grows with its memory.
 */
export function routeProcessesThrough(next: ProcessLauncher | undefined): void {
  launcher = next;
}

/**
 * Runs `argv[0]` with `argv.slice(1)` as arguments. Resolves for every outcome of the process itself (non-zero
 * exit, timeout, failure to start); rejects only when `signal` aborts the run or the arguments are unusable.
 */
export function runProcess(argv: readonly string[], options: RunProcessOptions): Promise<ProcessResult> {
  if (launcher === undefined) return runProcessHere(argv, options);
  const problem = argumentProblem(argv, options);
  return problem === undefined ? launcher.run(argv, options) : Promise.reject(problem);
}

/** Kills the process group `pid` leads (runs are started as group leaders); a group with no members left is no error. */
export function killProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group has no members left.
  }
}

function argumentProblem(argv: readonly string[], options: RunProcessOptions): Error | undefined {
  if (argv[0] === undefined || argv[0] === '') return new Error('runProcess: argv must not be empty');
  if (!(options.timeoutMs > 0)) return new Error('runProcess: timeoutMs must be positive');
  if (options.signal?.aborted) return toError(options.signal.reason);
  return undefined;
}

/** runProcess, spawning from this process whatever launcher is installed: what the process spawner itself runs. */
export function runProcessHere(argv: readonly string[], options: RunProcessOptions, onStart?: (pid: number) => void): Promise<ProcessResult> {
  const problem = argumentProblem(argv, options);
  if (problem !== undefined) return Promise.reject(problem);
  const [program = '', ...args] = argv;

  const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const stdout = new BoundedOutput(maxBytes);
  const stderr = new BoundedOutput(maxBytes);
  const started = performance.now();

  return new Promise<ProcessResult>((resolve, reject) => {
    // detached puts the child in its own process group, so a timeout also kills grandchildren that would
    // otherwise keep the output pipes open.
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      shell: false,
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    if (child.pid !== undefined) onStart?.(child.pid);
    const timers: NodeJS.Timeout[] = [];
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let exit: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;

    const killGroup = (killSignal: NodeJS.Signals): void => {
      if (child.pid !== undefined) killProcessGroup(child.pid, killSignal);
    };
    const terminate = (): void => {
      killGroup('SIGTERM');
      timers.push(setTimeout(() => killGroup('SIGKILL'), killGraceMs));
    };
    const onAbort = (): void => {
      aborted = true;
      terminate();
    };

    const finish = (startError?: Error): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // Background children left behind by the command must not outlive the run.
      killGroup('SIGKILL');
      if (aborted && options.signal) {
        reject(toError(options.signal.reason));
        return;
      }
      resolve({
        exitCode: exit?.exitCode ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        ...(startError === undefined ? {} : { startError }),
        stdout: stdout.contents(),
        stderr: stderr.contents(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        durationMs: Math.round(performance.now() - started),
      });
    };

    options.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(
      setTimeout(() => {
        timedOut = true;
        terminate();
      }, options.timeoutMs),
    );
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => finish(error));
    child.on('exit', (exitCode, exitSignal) => {
      exit = { exitCode, signal: exitSignal };
      // A background child that left the process group could hold the pipes open forever: kill the group,
      // then stop waiting for the pipes after a grace period.
      killGroup('SIGKILL');
      timers.push(
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish();
        }, STDIO_CLOSE_GRACE_MS),
      );
    });
    child.on('close', (exitCode, exitSignal) => {
      exit ??= { exitCode, signal: exitSignal };
      finish();
    });

    if (options.input !== undefined && child.stdin) {
      // A child that exits without reading stdin makes the write fail with EPIPE; its exit status tells the story.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/**
 * runProcess with UTF-8 text output and a minimal inherited environment (plus `options.env`): for commands
 * configured by users, which must not see the worker's secrets.
 */
export async function runCommand(argv: readonly string[], options: RunCommandOptions): Promise<RunCommandResult> {
  const { env, ...processOptions } = options;
  return toCommandResult(await runProcess(argv, { ...processOptions, env: { ...pickEnv(INHERITED_VARIABLES), ...env } }));
}

/** A process result as text: UTF-8 output and the start error's message. */
export function toCommandResult(processResult: ProcessResult): RunCommandResult {
  const { startError, stdout, stderr, ...result } = processResult;
  return {
    ...result,
    ...(startError === undefined ? {} : { startError: startError.message }),
    stdout: stdout.toString('utf8'),
    stderr: stderr.toString('utf8'),
  };
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
