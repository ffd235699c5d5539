/**
 * Worker heartbeats through the service's own least-privilege role: the grants that follow every migration
 * (src/store/roles.ts) cover the table, and ages come from the database's clock.
 */
import { randomUUID } from 'node:crypto';
import {
  forgetOldWorkerHeartbeats,
  HEARTBEAT_FRESH_MS,
  recordWorkerHeartbeat,
  removeWorkerHeartbeat,
  taskQueueLiveness,
} from '../../src/store/worker-heartbeats';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('worker heartbeats', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const beat = (taskQueue: string) => ({ workerId: randomUUID(), taskQueue, host: 'host-a', pid: 4242 });

  test('a task queue without rows has no live worker and no newest heartbeat', async () => {
    await expect(taskQueueLiveness(db.pool, 'empty-queue')).resolves.toEqual({ liveWorkers: 0, newestAgeMs: null });
  });

  test('the service role writes, reads and deletes its heartbeat; fresh rows count as live workers', async () => {
    const first = beat('queue-a');
    const second = beat('queue-a');
    await recordWorkerHeartbeat(db.pool, first);
    await recordWorkerHeartbeat(db.pool, first);
    await recordWorkerHeartbeat(db.pool, second);
    await recordWorkerHeartbeat(db.pool, beat('queue-b'));
    const live = await taskQueueLiveness(db.pool, 'queue-a');
    expect(live.liveWorkers).toBe(2);
    expect(live.newestAgeMs).toBeGreaterThanOrEqual(0);
    expect(live.newestAgeMs).toBeLessThan(HEARTBEAT_FRESH_MS);

    await removeWorkerHeartbeat(db.pool, first.workerId);
    await removeWorkerHeartbeat(db.pool, second.workerId);
    await expect(taskQueueLiveness(db.pool, 'queue-a')).resolves.toEqual({ liveWorkers: 0, newestAgeMs: null });
  });

  test('a heartbeat older than the freshness limit is reported with its age, not as a live worker', async () => {
    const stale = beat('queue-c');
    await recordWorkerHeartbeat(db.pool, stale);
    await db.ownerPool.query(`UPDATE worker_heartbeats SET last_seen = now() - interval '42 seconds' WHERE worker_id = $1`, [stale.workerId]);
    const { liveWorkers, newestAgeMs } = await taskQueueLiveness(db.pool, 'queue-c');
    expect(liveWorkers).toBe(0);
    expect(Math.round((newestAgeMs ?? 0) / 1000)).toBe(42);
  });

  test('rows of workers silent for more than a day are forgotten, recent ones kept', async () => {
    const ancient = beat('queue-d');
    const recent = beat('queue-d');
    await recordWorkerHeartbeat(db.pool, ancient);
    await recordWorkerHeartbeat(db.pool, recent);
    await db.ownerPool.query(`UPDATE worker_heartbeats SET last_seen = now() - interval '25 hours' WHERE worker_id = $1`, [ancient.workerId]);
    await forgetOldWorkerHeartbeats(db.pool);
    const { rows } = await db.ownerPool.query<{ worker_id: string }>('SELECT worker_id FROM worker_heartbeats WHERE task_queue = $1', ['queue-d']);
    expect(rows.map((row) => row.worker_id)).toEqual([recent.workerId]);
  });
});
