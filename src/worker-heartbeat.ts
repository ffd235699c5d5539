/**
 * The heartbeat of one worker process (src/store/worker-heartbeats.ts): its row is written every
 * HEARTBEAT_INTERVAL_MS while the worker polls and deleted at stop. /readyz and the live patch state rely on it.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import {
  forgetOldWorkerHeartbeats,
  HEARTBEAT_INTERVAL_MS,
  recordWorkerHeartbeat,
  removeWorkerHeartbeat,
  type WorkerHeartbeat,
} from './store/worker-heartbeats';

export interface WorkerHeartbeatOptions {
  pool: Pool;
  taskQueue: string;
  logger: Logger;
  /** False while the worker starts, drains or has stopped: no beat then, so its row ages. */
  isPolling: () => boolean;
}

export interface WorkerHeartbeatWriter {
  /** Stops beating and deletes the row (a failure is logged: the row then simply ages). */
  stop(): Promise<void>;
}

/** Beats now and every HEARTBEAT_INTERVAL_MS; a failed beat (database down) is logged once and retried. */
export function startWorkerHeartbeat(options: WorkerHeartbeatOptions): WorkerHeartbeatWriter {
  const { pool, logger } = options;
  const beat: WorkerHeartbeat = { workerId: randomUUID(), taskQueue: options.taskQueue, host: os.hostname(), pid: process.pid };
  let failing = false;
  const beatOnce = async (): Promise<void> => {
    if (!options.isPolling()) return;
    try {
      await recordWorkerHeartbeat(pool, beat);
      if (failing) logger.info('the worker heartbeat is written again');
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, 'could not write the worker heartbeat; readiness reports no live worker until it can');
      failing = true;
    }
  };
  // A beat that outlasts the interval (database slow) is not overlapped: the next tick skips.
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  const tick = (): void => {
    if (!stopped) inFlight ??= beatOnce().finally(() => (inFlight = undefined));
  };
  const first = forgetOldWorkerHeartbeats(pool)
    .catch((error: unknown) => logger.debug({ err: error }, 'could not delete old worker heartbeats'))
    .then(tick);
  const timer = setInterval(tick, HEARTBEAT_INTERVAL_MS);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await first;
      await inFlight;
      await removeWorkerHeartbeat(pool, beat.workerId).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not delete the worker heartbeat; it ages out instead'),
      );
    },
  };
}
