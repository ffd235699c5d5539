/**
 * The worker's side of the process spawner (src/process/spawner-child.ts). On Linux, Node's spawn forks the calling
 * process, and the fork blocks its event loop for a time that grows with its resident memory (nodejs/node#14917):
 * ~25 ms for a 300 MiB worker, on every git call, freezing every activity and workflow task of the worker. The
 * spawner is a ~40 MiB process forked once; the worker sends it each run over IPC and gets the result back, with
 * the same timeouts, output bounds and process-group kills as runProcess (it runs runProcess itself).
 *
 * A spawner that dies is started again by the next run; the runs it had in flight fail (the activity retries) and
 * their process groups are killed. When the worker dies, the spawner kills what it still runs and ends.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { killProcessGroup, pickEnv, type ProcessLauncher, type ProcessResult, routeProcessesThrough, type RunProcessOptions } from './run-command';
import type { SpawnerReply, SpawnerRequest, WireResult } from './spawner-protocol';

/** How long the spawner may take to load and say it is ready. */
const READY_TIMEOUT_MS = 30_000;
/** How long stop() waits for the spawner to end after disconnecting before killing it. */
const STOP_TIMEOUT_MS = 5_000;

interface PendingRun {
  argv0: string;
  signal?: AbortSignal;
  pid?: number;
  resolve: (result: ProcessResult) => void;
  reject: (error: Error) => void;
  detach: () => void;
}

/** A Buffer sent over the advanced-serialization channel may arrive as a plain Uint8Array. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fromWire(result: WireResult): ProcessResult {
  const { startError, stdout, stderr, ...rest } = result;
  const converted: ProcessResult = { ...rest, stdout: asBuffer(stdout), stderr: asBuffer(stderr) };
  if (startError !== undefined) converted.startError = Object.assign(new Error(startError.message), startError.code === undefined ? {} : { code: startError.code });
  return converted;
}

export class ProcessSpawner implements ProcessLauncher {
  private child: ChildProcess | undefined;
  private starting: Promise<ChildProcess> | undefined;
  private readonly pending = new Map<number, PendingRun>();
  private nextId = 1;
  private stopped = false;

  private constructor(private readonly entry: string) {}

  /** Forks the spawner and waits until it is ready, so a worker that cannot start one fails at start. */
  static async start(): Promise<ProcessSpawner> {
    const spawner = new ProcessSpawner(require.resolve('./spawner-child'));
    await spawner.ensureChild();
    return spawner;
  }

  /** The spawner's process id (tests, diagnostics); undefined while none runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async run(argv: readonly string[], options: RunProcessOptions): Promise<ProcessResult> {
    if (this.stopped) throw new Error('the process spawner has been stopped');
    const child = await this.ensureChild();
    const { signal, ...wireOptions } = options;
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
    const id = this.nextId++;
    return new Promise<ProcessResult>((resolve, reject) => {
      const onAbort = (): void => this.send(child, { kind: 'cancel', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        argv0: argv[0] ?? '',
        ...(signal === undefined ? {} : { signal }),
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      });
      this.holdOpen(true);
      this.send(child, { kind: 'run', id, argv, options: wireOptions });
    });
  }

  /** Ends the spawner (what it still runs is killed) and routes nothing through it any more. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private send(child: ChildProcess, request: SpawnerRequest): void {
    if (!child.connected) return; // its exit handler fails the pending runs
    child.send(request, (error) => {
      if (error && request.kind === 'run') this.settle(request.id, (run) => run.reject(new Error(`could not hand ${run.argv0} to the process spawner: ${error.message}`)));
    });
  }

  private ensureChild(): Promise<ChildProcess> {
    if (this.child !== undefined) return Promise.resolve(this.child);
    this.starting ??= this.fork().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private fork(): Promise<ChildProcess> {
    return new Promise<ChildProcess>((resolve, reject) => {
      // Only NODE_OPTIONS is passed on (a loader or heap setting for Node itself): each run carries its own environment.
      const child = fork(this.entry, [], {
        env: pickEnv(['NODE_OPTIONS']),
        execArgv: [],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      let ready = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the process spawner (${this.entry}) did not start within ${READY_TIMEOUT_MS / 1000} s`));
      }, READY_TIMEOUT_MS);
      child.on('message', (reply: SpawnerReply) => {
        if (reply.kind === 'ready') {
          ready = true;
          clearTimeout(timer);
          this.child = child;
          this.holdOpen(this.pending.size > 0);
          resolve(child);
        } else this.onReply(reply);
      });
      const onEnd = (why: string): void => {
        clearTimeout(timer);
        if (this.child === child) this.child = undefined;
        if (!ready) {
          reject(new Error(`the process spawner (${this.entry}) could not start: ${why}`));
          return;
        }
        for (const id of [...this.pending.keys()]) {
          this.settle(id, (run) => {
            if (run.pid !== undefined) killProcessGroup(run.pid, 'SIGKILL');
            run.reject(new Error(`the process spawner ended (${why}) while ${run.argv0} ran; its outcome is unknown`));
          });
        }
      };
      child.once('error', (error) => onEnd(error.message));
      child.once('exit', (code, signal) => onEnd(signal === null ? `exit code ${code}` : `signal ${signal}`));
    });
  }

  private onReply(reply: Exclude<SpawnerReply, { kind: 'ready' }>): void {
    if (reply.kind === 'started') {
      const run = this.pending.get(reply.id);
      if (run) run.pid = reply.pid;
    } else if (reply.kind === 'result') {
      this.settle(reply.id, (run) => run.resolve(fromWire(reply.result)));
    } else {
      this.settle(reply.id, (run) => {
        // A cancelled run rejects with its signal's reason, as runProcess does.
        const reason: unknown = run.signal?.aborted ? run.signal.reason : undefined;
        run.reject(reason instanceof Error ? reason : new Error(reply.message));
      });
    }
  }

  private settle(id: number, outcome: (run: PendingRun) => void): void {
    const run = this.pending.get(id);
    if (run === undefined) return;
    this.pending.delete(id);
    run.detach();
    outcome(run);
    if (this.pending.size === 0) this.holdOpen(false);
  }

  /** An idle spawner must not keep the worker process alive; a busy one must. */
  private holdOpen(busy: boolean): void {
    const child = this.child;
    if (child === undefined) return;
    if (busy) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }
}

let shared: { spawner: Promise<ProcessSpawner>; users: number } | undefined;

/**
 * Routes this process's runProcess calls through one shared spawner until every user has released it (a test
 * process may run several workers at once). Resolves to the release function.
 */
export async function useProcessSpawner(): Promise<() => Promise<void>> {
  if (shared === undefined) {
    const started = { spawner: ProcessSpawner.start(), users: 0 };
    shared = started;
    started.spawner.catch(() => {
      if (shared === started) shared = undefined;
    });
  }
  const current = shared;
  current.users += 1;
  let spawner: ProcessSpawner;
  try {
    spawner = await current.spawner;
  } catch (error) {
    current.users -= 1;
    throw error;
  }
  routeProcessesThrough(spawner);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    current.users -= 1;
    if (current.users > 0 || shared !== current) return;
    shared = undefined;
    routeProcessesThrough(undefined);
    await spawner.stop();
  };
}
