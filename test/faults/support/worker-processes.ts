/**
 * The service's worker as a child process (dist/src/worker.js), kept running the way a process supervisor
 * (systemd, Kubernetes) keeps it running: one at a time, started again whenever it exits. The test kills it with
 * SIGKILL at moments of its choosing; an exit the test did not cause is counted with the process's last output,
 * because it may be a finding (a worker that cannot outlive a database or Temporal outage).
 */
import type { ChildProcess } from 'node:child_process';
import type { LifecycleHarness } from '../../support/lifecycle';
import { assertWorkerBuilt, spawnWorkerProcess } from '../../support/worker-process';
import { until } from './waiting';

/** A worker that exits on its own is started again after this long (a supervisor's restart delay). */
const RESTART_DELAY_MS = 1_000;
/** Starts after which the supervisor gives up: a worker that cannot stay up is the test's failure, not a loop. */
const MAX_STARTS = 100;
/** Characters of a process's output kept for the report of an unplanned exit. */
const KEPT_OUTPUT_CHARS = 4_000;

export interface UnplannedExit {
  at: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of what the process wrote (pino JSON lines, then its last error). */
  output: string;
}

interface RunningWorker {
  child: ChildProcess;
  /** Whether it logged "worker started": it polls the task queue from then on. */
  polling: boolean;
  output: string;
  /** Set before the test kills it, so that its exit is not counted as unplanned. */
  killedByTest: boolean;
  exited: Promise<void>;
}

export class WorkerSupervisor {
  starts = 0;
  kills = 0;
  readonly unplannedExits: UnplannedExit[] = [];
  private current: RunningWorker | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly harness: LifecycleHarness) {
    assertWorkerBuilt();
  }

  /** Starts a worker process unless one runs (or the supervisor was stopped). */
  start(): void {
    if (this.stopped || this.current) return;
    if (this.starts >= MAX_STARTS) throw new Error(`The worker was started ${MAX_STARTS} times; it does not stay up.`);
    this.starts += 1;
    const { harness } = this;
    // info: the "worker started" line tells when it polls.
    const child = spawnWorkerProcess(harness, { env: { LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const worker: RunningWorker = {
      child,
      polling: false,
      output: '',
      killedByTest: false,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      worker.output = (worker.output + text).slice(-KEPT_OUTPUT_CHARS);
      if (text.includes('"msg":"worker started"')) worker.polling = true;
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) => {
      if (this.current === worker) this.current = undefined;
      if (worker.killedByTest || this.stopped) return;
      this.unplannedExits.push({ at: new Date().toISOString(), code, signal, output: worker.output });
      this.restartTimer = setTimeout(() => this.start(), RESTART_DELAY_MS);
    });
    this.current = worker;
  }

  /** Waits until a worker process polls the task queue. */
  async polling(timeoutMs = 120_000): Promise<void> {
    await until('a polling worker process', () => Promise.resolve(this.current?.polling ? true : undefined), { timeoutMs, intervalMs: 100 });
  }

  /** SIGKILLs the polling worker (waiting for one first), then starts the next one at once. */
  async kill(): Promise<void> {
    await this.polling();
    const worker = this.current;
    if (!worker) throw new Error('No worker process runs to be killed.');
    worker.killedByTest = true;
    worker.child.kill('SIGKILL');
    await worker.exited;
    this.kills += 1;
    this.start();
  }

  /** Stops supervising and kills the running worker, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const worker = this.current;
    if (!worker) return;
    worker.killedByTest = true;
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
}
