/**
 * Worker liveness (migrations/0005_worker_heartbeats.sql): each worker process writes its row every
 * HEARTBEAT_INTERVAL_MS while it polls and deletes it when it stops gracefully, so a task queue has a live worker
 * while one of its rows is younger than HEARTBEAT_FRESH_MS. Temporal's poller list cannot tell this quickly: the
 * last access time of a live, idle poller may be a minute old. Ages are measured on the database's clock.
 */
import type { Queryable } from './db';

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** Three intervals: one late or lost write does not make a live worker look dead. */
export const HEARTBEAT_FRESH_MS = 15_000;
/** Rows of workers that stopped beating this long ago say nothing any more; a starting worker deletes them. */
const FORGET_AFTER_MS = 24 * 3600_000;

export interface WorkerHeartbeat {
  /** Unique per worker run. */
  workerId: string;
  taskQueue: string;
  host: string;
  pid: number;
}

/** Writes the worker's row with last_seen = now (inserting it on the first beat). */
export async function recordWorkerHeartbeat(pool: Queryable, beat: WorkerHeartbeat): Promise<void> {
  await pool.query(
    `INSERT INTO worker_heartbeats (worker_id, task_queue, host, pid) VALUES ($1, $2, $3, $4)
     ON CONFLICT (worker_id) DO UPDATE SET last_seen = now()`,
    [beat.workerId, beat.taskQueue, beat.host, beat.pid],
  );
}

export async function removeWorkerHeartbeat(pool: Queryable, workerId: string): Promise<void> {
  await pool.query('DELETE FROM worker_heartbeats WHERE worker_id = $1', [workerId]);
}

/** Deletes the rows of workers that stopped beating long ago (killed ones never delete their own). */
export async function forgetOldWorkerHeartbeats(pool: Queryable): Promise<void> {
  await pool.query(`DELETE FROM worker_heartbeats WHERE last_seen < now() - $1 * interval '1 millisecond'`, [FORGET_AFTER_MS]);
}

export interface TaskQueueLiveness {
  /** Workers whose newest heartbeat is younger than HEARTBEAT_FRESH_MS. */
  liveWorkers: number;
  /** Age of the newest heartbeat of the task queue, null when it has none. */
  newestAgeMs: number | null;
}

export async function taskQueueLiveness(pool: Queryable, taskQueue: string): Promise<TaskQueueLiveness> {
  const { rows } = await pool.query<{ live_workers: number; newest_age_ms: number | null }>(
    `SELECT count(*) FILTER (WHERE last_seen > now() - $2 * interval '1 millisecond')::int AS live_workers,
            (extract(epoch FROM now() - max(last_seen)) * 1000)::float8 AS newest_age_ms
       FROM worker_heartbeats WHERE task_queue = $1`,
    [taskQueue, HEARTBEAT_FRESH_MS],
  );
  return { liveWorkers: rows[0]?.live_workers ?? 0, newestAgeMs: rows[0]?.newest_age_ms ?? null };
}
