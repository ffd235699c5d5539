/**
 * Child processes without a shell: argv arrays, a time limit, an AbortSignal, capped output, and the whole
 * process group killed on timeout, on abort and once the main process has exited (so background children of a
 * verify command do not outlive it). Used for git and for targets' verify commands.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CommandStartError, InvalidInputError, OperationAbortedError } from './errors';

/** How long to wait for stdout/stderr to close after the main process exited before giving up on them. */
const STDIO_CLOSE_GRACE_MS = 1_000;

export interface SpawnCapturedOptions {
  cwd: string;
  /** The complete environment of the child (nothing is inherited implicitly). */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Written to stdin, then stdin is closed; without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Per stream; beyond it the head and the tail are kept and the middle is dropped. */
  maxOutputBytes: number;
  /** On timeout the group gets SIGTERM, then SIGKILL after this many ms; 0 sends SIGKILL at once. */
  killGraceMs: number;
}

export interface CapturedProcess {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

/** Keeps the first and the last half of `limit` bytes of a stream. */
class OutputCapture {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private droppedBytes = 0;
  private readonly headLimit: number;
  private readonly tailLimit: number;

  constructor(limit: number) {
    this.headLimit = Math.ceil(limit / 2);
    this.tailLimit = limit - this.headLimit;
  }

  push(chunk: Buffer): void {
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const taken = rest.subarray(0, this.headLimit - this.headBytes);
      this.head.push(taken);
      this.headBytes += taken.length;
      rest = rest.subarray(taken.length);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tailBytes > this.tailLimit) {
      const first = this.tail[0];
      if (first === undefined) break;
      const excess = this.tailBytes - this.tailLimit;
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

  get truncated(): boolean {
    return this.droppedBytes > 0;
  }

  contents(): Buffer {
    const marker = this.truncated ? [Buffer.from(`\n[... ${this.droppedBytes} bytes omitted ...]\n`)] : [];
    return Buffer.concat([...this.head, ...marker, ...this.tail]);
  }
}

/**
 * Runs `file args` in its own process group and captures its output. Rejects only with CommandStartError or
 * OperationAbortedError: exit codes and timeouts are in the result.
 */
export function spawnCaptured(file: string, args: readonly string[], options: SpawnCapturedOptions): Promise<CapturedProcess> {
  return new Promise((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) {
      reject(new OperationAbortedError(signal.reason));
      return;
    }
    const started = performance.now();
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      // A new process group, so a timeout or abort can kill the command's children too.
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const stdout = new OutputCapture(options.maxOutputBytes);
    const stderr = new OutputCapture(options.maxOutputBytes);
    const timers: NodeJS.Timeout[] = [];
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

    const killGroup = (killSignal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, killSignal);
      } catch {
        // ESRCH: the group has no members left.
      }
    };
    const onAbort = (): void => {
      aborted = true;
      killGroup('SIGKILL');
    };
    const finish = (spawnError?: Error): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      killGroup('SIGKILL');
      if (spawnError) reject(new CommandStartError(file, spawnError));
      else if (aborted) reject(new OperationAbortedError(signal?.reason));
      else {
        resolve({
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
          stdout: stdout.contents(),
          stderr: stderr.contents(),
          stdoutTruncated: stdout.truncated,
          stderrTruncated: stderr.truncated,
          timedOut,
          durationMs: Math.round(performance.now() - started),
        });
      }
    };

    signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(
      setTimeout(() => {
        timedOut = true;
        if (options.killGraceMs > 0) {
          killGroup('SIGTERM');
          timers.push(setTimeout(() => killGroup('SIGKILL'), options.killGraceMs));
        } else {
          killGroup('SIGKILL');
        }
      }, options.timeoutMs),
    );
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (child.stdin) {
      // EPIPE when the child exits without reading all of its input; the exit code tells what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    child.on('error', (error) => finish(error));
    child.on('exit', (code, exitSignal) => {
      exit = { code, signal: exitSignal };
      // Leftover background children would keep the pipes open; the group is killed and, should one have left
      // the group, its pipes are abandoned after a grace period.
      killGroup('SIGKILL');
      timers.push(
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish();
        }, STDIO_CLOSE_GRACE_MS),
      );
    });
    child.on('close', (code, closeSignal) => {
      exit ??= { code, signal: closeSignal };
      finish();
    });
  });
}

export interface RunCommandOptions {
  timeoutMs: number;
  /** Added to a minimal environment (PATH, HOME, TMPDIR, LANG): the worker's own secrets are not passed on. */
  env?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** Per stream, default 1 MiB; the head and tail are kept. */
  maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL on timeout, default 2000 ms. */
  killGraceMs?: number;
  input?: string;
}

export interface CommandResult {
  /** null when the process was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

const MINIMAL_ENV_KEYS = ['PATH', 'HOME', 'TMPDIR', 'LANG'] as const;

/** Picks the named variables of the worker's environment that are set. */
export function pickEnv(keys: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of keys) {
    const value = process.env[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked;
}

/**
 * Runs a target's verify command (argv[0] is the program, looked up in PATH; no shell) in `dir`. A non-zero
 * exit or a timeout is reported in the result, not thrown; an abort rejects with OperationAbortedError.
 */
export async function runCommand(dir: string, argv: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  const [program, ...args] = argv;
  if (program === undefined || program === '') throw new InvalidInputError('runCommand needs a non-empty argv');
  if (!(options.timeoutMs > 0)) throw new InvalidInputError('runCommand needs a positive timeoutMs');
  const result = await spawnCaptured(program, args, {
    cwd: dir,
    env: { ...pickEnv(MINIMAL_ENV_KEYS), ...options.env },
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    input: options.input,
    maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
    killGraceMs: options.killGraceMs ?? 2_000,
  });
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: result.stdout.toString('utf8'),
    stderr: result.stderr.toString('utf8'),
    stdoutTruncated: result.stdoutTruncated,
    stderrTruncated: result.stderrTruncated,
    timedOut: result.timedOut,
    durationMs: result.durationMs,
  };
}
