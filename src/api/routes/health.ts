/**
 * /healthz (the process answers) and /readyz: PostgreSQL and Temporal reachable, and a live worker on the task
 * queue, judged by the workers' heartbeats in PostgreSQL. 503 names each failing part.
 */
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { databaseReachable } from '../../store/db';
import { HEARTBEAT_FRESH_MS, taskQueueLiveness } from '../../store/worker-heartbeats';
import { HttpProblem, sendProblem } from '../problem';

const CHECK_TIMEOUT_MS = 3_000;

export interface ReadinessDeps {
  pool: Pool;
  temporalClient: Client;
  taskQueue: string;
}

type CheckResult = { ok: true; detail?: string } | { ok: false; detail: string };

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function checkDatabase(pool: Pool): Promise<CheckResult> {
  const ok = await withTimeout(databaseReachable(pool)).catch(() => false);
  return ok ? { ok: true } : { ok: false, detail: 'PostgreSQL is not reachable' };
}

async function checkTemporal(client: Client): Promise<CheckResult> {
  try {
    // A deadline, not a race: it also ends the client's own retries of the call.
    await client.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => client.workflowService.getSystemInfo({}));
    return { ok: true };
  } catch {
    return { ok: false, detail: 'Temporal is not reachable' };
  }
}

/** Live while a worker of the task queue wrote its heartbeat within HEARTBEAT_FRESH_MS (src/store/worker-heartbeats.ts). */
async function checkWorker(deps: ReadinessDeps, databaseUp: boolean): Promise<CheckResult> {
  if (!databaseUp) return { ok: false, detail: 'unknown while PostgreSQL is unreachable' };
  try {
    const { liveWorkers, newestAgeMs } = await withTimeout(taskQueueLiveness(deps.pool, deps.taskQueue));
    if (liveWorkers > 0) return { ok: true, detail: `${liveWorkers} live worker(s) on task queue ${deps.taskQueue}` };
    const seconds = HEARTBEAT_FRESH_MS / 1000;
    return {
      ok: false,
      detail: newestAgeMs === null
        ? `no worker is running on task queue ${deps.taskQueue} (none has sent a heartbeat)`
        : `no worker on task queue ${deps.taskQueue} sent a heartbeat within ${seconds} s (the newest is ${Math.round(newestAgeMs / 1000)} s old)`,
    };
  } catch (error) {
    return { ok: false, detail: `the worker heartbeats could not be read: ${(error as Error).message}` };
  }
}

export function healthRoutes(deps: ReadinessDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    const [database, temporal] = await Promise.all([checkDatabase(deps.pool), checkTemporal(deps.temporalClient)]);
    const checks = { database, temporal, worker: await checkWorker(deps, database.ok) };
    const failing = Object.entries(checks).filter(([, check]) => !check.ok);
    if (failing.length === 0) {
      res.json({ status: 'ready', checks });
      return;
    }
    const detail = failing.map(([name, check]) => `${name}: ${check.detail ?? 'failing'}`).join('; ');
    sendProblem(res, new HttpProblem(503, `Not ready: ${detail}.`, { checks }), req.originalUrl);
  });
  return router;
}
