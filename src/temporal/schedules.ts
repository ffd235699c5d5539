/**
 * The Temporal Schedules the service relies on, created (or brought up to date) when a worker starts, so that
 * pausing, triggering and backfilling work from the Temporal CLI and Web UI as for any schedule.
 */
import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { reconcileWorkflow } from '../workflows/reconcile';
import { ensureSearchAttributes } from './search-attributes';

/** One reconciler per task queue (each deployment of the service has its own). */
export function reconcileScheduleId(taskQueue: string): string {
  return `reconcile-${taskQueue}`;
}

/** Creates the reconcile schedule, or sets the interval of the one that exists. */
export async function ensureReconcileSchedule(client: Client, temporal: Config['temporal'], intervalSeconds: number): Promise<void> {
  const scheduleId = reconcileScheduleId(temporal.taskQueue);
  const spec = { intervals: [{ every: `${intervalSeconds} seconds` }] };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action: { type: 'startWorkflow', workflowType: reconcileWorkflow, taskQueue: temporal.taskQueue, workflowId: `reconcile-${temporal.taskQueue}` },
      // A pass still running when the next is due makes the next one unnecessary.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec }));
  }
}

/**
 * What a worker's namespace needs before the worker runs: the custom search attributes and the reconcile schedule.
 * Failures are logged, not fatal: a cluster admin may have to do either by hand.
 */
export async function prepareNamespace(client: Client, config: Config, logger: Logger): Promise<void> {
  const added = await ensureSearchAttributes(client, config.temporal.namespace).catch((error: unknown) => {
    logger.warn({ err: error }, 'could not register the custom search attributes; ask the cluster admin to add them');
    return [];
  });
  if (added.length > 0) logger.info({ added }, 'search attributes registered');
  await ensureReconcileSchedule(client, config.temporal, config.worker.reconcileIntervalSeconds).catch((error: unknown) =>
    logger.warn({ err: error }, `could not create the reconcile schedule ${reconcileScheduleId(config.temporal.taskQueue)}; patches whose run ends without finishing are not repaired`),
  );
}
