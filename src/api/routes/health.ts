import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Pool } from 'pg';
import { databaseReachable } from '../../store/db';
import { HttpProblem, sendProblem } from '../problem';

/** A poller seen more recently than this counts as a live worker (the server remembers pollers for minutes). */
const LIVE_POLLER_MS = 90_000;
const CHECK_TIMEOUT_MS = 3_000;

export interface ReadinessDeps {
  pool: Pool;
  temporalClient: Client;
  namespace: string;
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

async function checkTemporalAndWorkers(deps: ReadinessDeps): Promise<{ temporal: CheckResult; worker: CheckResult }> {
  const { connection } = deps.temporalClient;
  const service = deps.temporalClient.workflowService;
  // A deadline, not a race: it also ends the client's own retries of the call.
  const bounded = <T>(call: () => Promise<T>): Promise<T> => connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, call);
  try {
    await bounded(() => service.getSystemInfo({}));
  } catch {
    return { temporal: { ok: false, detail: 'Temporal is not reachable' }, worker: { ok: false, detail: 'unknown while Temporal is unreachable' } };
  }
  try {
    const response = await bounded(() =>
      service.describeTaskQueue({
        namespace: deps.namespace,
        taskQueue: { name: deps.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    const now = Date.now();
    const live = (response.pollers ?? []).filter((poller) => {
      const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
      return now - seconds * 1000 < LIVE_POLLER_MS;
    });
    return {
      temporal: { ok: true },
      worker: live.length > 0
        ? { ok: true, detail: `${live.length} poller(s) on ${deps.taskQueue}` }
        : { ok: false, detail: `no worker is polling task queue ${deps.taskQueue}` },
    };
  } catch (error) {
    return { temporal: { ok: false, detail: `Temporal error: ${(error as Error).message}` }, worker: { ok: false, detail: 'unknown' } };
  }
}

export function healthRoutes(deps: ReadinessDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    const [database, { temporal: temporalCheck, worker }] = await Promise.all([checkDatabase(deps.pool), checkTemporalAndWorkers(deps)]);
    const checks = { database, temporal: temporalCheck, worker };
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
