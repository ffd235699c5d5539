/**
 * The revert activities of a lifecycle run as its event history tells them: which target and wave each reverted,
 * in which order they were scheduled and closed, and how many were in flight after each workflow task's commands.
 * Event order, not wall-clock time: what the workflow decided, free of timing noise.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface RevertActivity {
  targetId: string;
  wave: number;
  /** Index (in the history) of its ActivityTaskScheduled event. */
  scheduledAt: number;
  /** Index of the event that closed it (completed, failed, timed out, cancelled); undefined while open. */
  closedAt?: number;
}

export interface RevertTimeline {
  reverts: RevertActivity[];
  /** After each workflow task whose commands scheduled or followed a revert: the reverts in flight, and of which wave. */
  inFlightAfterCommands: Array<{ wave: number; inFlight: number; unscheduledInWave: number }>;
  /** The most reverts in flight at any point. */
  maxInFlight: number;
}

/** Events a workflow task's completion writes for its commands. */
const COMMAND_EVENTS = new Set(['activityTaskScheduledEventAttributes', 'markerRecordedEventAttributes', 'upsertWorkflowSearchAttributesEventAttributes', 'timerStartedEventAttributes']);

function isCommandEvent(event: HistoryEvent): boolean {
  return [...COMMAND_EVENTS].some((key) => event[key as keyof HistoryEvent] != null);
}

function closedActivityId(event: HistoryEvent): string | undefined {
  const closed =
    event.activityTaskCompletedEventAttributes ??
    event.activityTaskFailedEventAttributes ??
    event.activityTaskTimedOutEventAttributes ??
    event.activityTaskCanceledEventAttributes;
  return closed ? String(closed.scheduledEventId) : undefined;
}

export function revertTimeline(events: readonly HistoryEvent[]): RevertTimeline {
  const reverts: RevertActivity[] = [];
  const byEventId = new Map<string, RevertActivity>();
  const boundaries: Array<{ at: number; wave: number; inFlight: number }> = [];
  let maxInFlight = 0;
  let afterTaskCompleted = false;
  const inFlight = (): number => reverts.filter((revert) => revert.closedAt === undefined).length;

  events.forEach((event, index) => {
    // The commands of a workflow task end at the first other event after its completion.
    if (afterTaskCompleted && !isCommandEvent(event)) {
      afterTaskCompleted = false;
      const last = reverts.at(-1);
      if (last) boundaries.push({ at: index, wave: last.wave, inFlight: inFlight() });
    }
    if (event.workflowTaskCompletedEventAttributes) afterTaskCompleted = true;
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'revertTarget') {
      const data = scheduled.input?.payloads?.[0]?.data ?? new Uint8Array();
      const input = JSON.parse(Buffer.from(data).toString('utf8')) as { target: { id: string }; wave: number };
      const revert: RevertActivity = { targetId: input.target.id, wave: input.wave, scheduledAt: index };
      reverts.push(revert);
      byEventId.set(String(event.eventId), revert);
      maxInFlight = Math.max(maxInFlight, inFlight());
    }
    const closedId = closedActivityId(event);
    const closed = closedId === undefined ? undefined : byEventId.get(closedId);
    if (closed) closed.closedAt = index;
  });
  const inFlightAfterCommands = boundaries.map(({ at, wave, inFlight: count }) => ({
    wave,
    inFlight: count,
    unscheduledInWave: reverts.filter((revert) => revert.wave === wave && revert.scheduledAt > at).length,
  }));
  return { reverts, inFlightAfterCommands, maxInFlight };
}
