/**
 * Reads the command shape of a recorded lifecycle run out of its event history, for the "Temporal alone" baseline
 * (src/workflows/lifecycle-skeleton.ts): per workflow task, the activities and timers it started, and what had
 * completed before it ran. Timers that were cancelled (the approval deadline) are left out: they never fire.
 */
import type { temporal } from '@temporalio/proto';
import type { LifecycleShape, SkeletonStep } from '../src/workflows/lifecycle-skeleton';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function eventId(event: HistoryEvent): number {
  return Number(event.eventId ?? 0);
}

export function lifecycleShape(events: readonly HistoryEvent[]): LifecycleShape {
  const cancelledTimers = new Set(events.flatMap((event) => (event.timerCanceledEventAttributes ? [Number(event.timerCanceledEventAttributes.startedEventId ?? 0)] : [])));
  const steps = new Map<number, SkeletonStep>();
  const stepOf = (taskCompletedId: number): SkeletonStep => {
    let step = steps.get(taskCompletedId);
    if (!step) {
      step = { after: [], approval: false, activities: [], timers: [] };
      steps.set(taskCompletedId, step);
    }
    return step;
  };
  // Completions seen since the last workflow task that issued commands: the next such task waited for them.
  let completedSinceLastStep: number[] = [];
  let updateSeen = false;
  for (const event of events) {
    if (event.activityTaskCompletedEventAttributes) completedSinceLastStep.push(Number(event.activityTaskCompletedEventAttributes.scheduledEventId ?? 0));
    if (event.timerFiredEventAttributes) completedSinceLastStep.push(Number(event.timerFiredEventAttributes.startedEventId ?? 0));
    if (event.workflowExecutionUpdateAcceptedEventAttributes || event.workflowExecutionSignaledEventAttributes) updateSeen = true;
    const scheduled = event.activityTaskScheduledEventAttributes;
    const timer = event.timerStartedEventAttributes;
    const taskCompletedId = Number(scheduled?.workflowTaskCompletedEventId ?? timer?.workflowTaskCompletedEventId ?? 0);
    if (taskCompletedId === 0) continue;
    if (timer && cancelledTimers.has(eventId(event))) continue;
    const fresh = !steps.has(taskCompletedId);
    const step = stepOf(taskCompletedId);
    if (fresh) {
      step.after = completedSinceLastStep;
      step.approval = updateSeen;
      completedSinceLastStep = [];
      updateSeen = false;
    }
    if (scheduled) step.activities.push({ id: eventId(event), type: scheduled.activityType?.name ?? 'unknown' });
    if (timer) {
      const duration = timer.startToFireTimeout;
      step.timers.push({ id: eventId(event), ms: Number(duration?.seconds ?? 0) * 1000 + Math.round((duration?.nanos ?? 0) / 1e6) });
    }
  }
  return { steps: [...steps.values()] };
}

/** The activity types a shape uses (the baseline worker registers a no-op under each). */
export function shapeActivityTypes(shapes: readonly LifecycleShape[]): string[] {
  return [...new Set(shapes.flatMap((shape) => shape.steps.flatMap((step) => step.activities.map((activity) => activity.type))))];
}

/** Time spent per activity type in a history: waiting for a worker (scheduled to started) and running. */
export interface ActivityTime {
  type: string;
  count: number;
  queuedMs: number;
  runningMs: number;
}

function millis(event: HistoryEvent | undefined): number {
  const time = event?.eventTime;
  return time ? Number(time.seconds ?? 0) * 1000 + Math.round((time.nanos ?? 0) / 1e6) : 0;
}

/** Sums, per activity type, how long the activities of these histories waited and ran. */
export function activityTimes(histories: ReadonlyArray<readonly HistoryEvent[]>): ActivityTime[] {
  const totals = new Map<string, ActivityTime>();
  for (const events of histories) {
    const byId = new Map(events.map((event) => [eventId(event), event]));
    for (const event of events) {
      const completed = event.activityTaskCompletedEventAttributes;
      if (!completed) continue;
      const scheduled = byId.get(Number(completed.scheduledEventId ?? 0));
      const started = byId.get(Number(completed.startedEventId ?? 0));
      const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? 'unknown';
      const total = totals.get(type) ?? { type, count: 0, queuedMs: 0, runningMs: 0 };
      total.count += 1;
      total.queuedMs += millis(started) - millis(scheduled);
      total.runningMs += millis(event) - millis(started);
      totals.set(type, total);
    }
  }
  return [...totals.values()].sort((a, b) => b.runningMs - a.runningMs);
}

/** Where one lifecycle's wall time went: its tests, the wait for the approval after them, and the rollout. */
export interface LifecyclePhases {
  testsMs: number;
  awaitingApprovalMs: number;
  rolloutMs: number;
}

/** The phases of a recorded lifecycle: start to the last test-stage completion, to the approval, to the end. */
export function lifecyclePhases(events: readonly HistoryEvent[], testActivityType: string): LifecyclePhases {
  const byId = new Map(events.map((event) => [eventId(event), event]));
  const start = millis(events[0]);
  const end = millis(events[events.length - 1]);
  let testsDone = start;
  for (const event of events) {
    const completed = event.activityTaskCompletedEventAttributes;
    if (!completed) continue;
    const type = byId.get(Number(completed.scheduledEventId ?? 0))?.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type === testActivityType) testsDone = Math.max(testsDone, millis(event));
  }
  const approval = events.find((event) => event.workflowExecutionUpdateAcceptedEventAttributes || event.workflowExecutionSignaledEventAttributes);
  const approved = approval ? millis(approval) : testsDone;
  return { testsMs: testsDone - start, awaitingApprovalMs: approved - testsDone, rolloutMs: end - approved };
}
