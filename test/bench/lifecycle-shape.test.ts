/**
 * The "Temporal alone" baseline of the lifecycle benchmark: the shape read from a recorded lifecycle history, run
 * by the skeleton workflow on the time-skipping server, issues the same activities and timers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { lifecycleShape, shapeActivityTypes } from '../../bench/lifecycle-shape';
import { approveSkeletonSignal, lifecycleSkeletonWorkflow } from '../../src/workflows/lifecycle-skeleton';
import { sharedTestState } from '../support/shared-state';

jest.setTimeout(120_000);

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function recorded(name: string): HistoryEvent[] {
  return historyFromJSON(JSON.parse(readFileSync(path.join(__dirname, '..', 'replay', name), 'utf8'))).events ?? [];
}

/** Activity types scheduled, with counts, and the durations of the timers that fired. */
function commandsOf(events: readonly HistoryEvent[]): { activities: Record<string, number>; firedTimerMs: number[] } {
  const activities: Record<string, number> = {};
  const timers = new Map<number, number>();
  const firedTimerMs: number[] = [];
  for (const event of events) {
    const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) activities[type] = (activities[type] ?? 0) + 1;
    const started = event.timerStartedEventAttributes?.startToFireTimeout;
    if (started) timers.set(Number(event.eventId), Number(started.seconds ?? 0) * 1000);
    const fired = event.timerFiredEventAttributes;
    if (fired) firedTimerMs.push(timers.get(Number(fired.startedEventId)) ?? -1);
  }
  return { activities, firedTimerMs };
}

describe('lifecycle shape', () => {
  it('reads every activity and fired timer of a recorded run, the approval wait once, and nothing cancelled', () => {
    const events = recorded('v3-deployed-3-waves.json');
    const shape = lifecycleShape(events);
    const { activities, firedTimerMs } = commandsOf(events);
    const shapeActivities: Record<string, number> = {};
    for (const activity of shape.steps.flatMap((step) => step.activities)) shapeActivities[activity.type] = (shapeActivities[activity.type] ?? 0) + 1;
    expect(shapeActivities).toEqual(activities);
    expect(shape.steps.flatMap((step) => step.timers.map((timer) => timer.ms)).sort()).toEqual(firedTimerMs.sort());
    expect(shape.steps.filter((step) => step.approval)).toHaveLength(1);
    // Each step waits only for what a step before it started.
    const startedBefore = new Set<number>();
    for (const step of shape.steps) {
      for (const id of step.after) expect(startedBefore.has(id)).toBe(true);
      for (const item of [...step.activities, ...step.timers]) startedBefore.add(item.id);
    }
  });

  it('runs on the time-skipping server as the same activities and timers, each activity doing nothing', async () => {
    const events = recorded('v3-health-failure-rollback.json');
    const shape = lifecycleShape(events);
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: sharedTestState().temporalTestServer } } });
    try {
      const calls: string[] = [];
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'skeleton',
        workflowsPath: require.resolve('../../src/workflows/lifecycle-skeleton'),
        activities: Object.fromEntries(shapeActivityTypes([shape]).map((type) => [type, () => Promise.resolve(void calls.push(type))])),
      });
      const history = await worker.runUntil(async () => {
        const handle = await env.client.workflow.start(lifecycleSkeletonWorkflow, { taskQueue: 'skeleton', workflowId: 'skeleton-rollback', args: [shape] });
        await handle.signal(approveSkeletonSignal);
        await handle.result();
        return handle.fetchHistory();
      });
      const original = commandsOf(events);
      const skeleton = commandsOf(history.events ?? []);
      expect(skeleton.activities).toEqual(original.activities);
      expect(skeleton.firedTimerMs.sort()).toEqual(original.firedTimerMs.sort());
      expect(calls.sort()).toEqual(Object.entries(original.activities).flatMap(([type, count]) => Array<string>(count).fill(type)).sort());
    } finally {
      await env.teardown();
    }
  });
});
