/**
 * Each agent policy is a Temporal Schedule `agent-<policy id>` that starts agentCycleWorkflow at every tick, so
 * pausing, triggering and backfilling work from the Temporal CLI and Web UI as well as through the API. The
 * policy row is the record: these functions derive the schedule from it.
 *
 * Overlap SKIP: a tick that comes while the previous cycle still runs would scan the same fleet and find what that
 * cycle is proposing; it is dropped rather than buffered (BUFFER_ONE would only run that redundant cycle later).
 * The catch-up window is bounded: after an outage at most the ticks of the last 10 minutes are taken (one, as
 * SKIP drops the others), never a day's backlog.
 */
import { randomUUID } from 'node:crypto';
import { type Client, ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleSpec } from '@temporalio/client';
import { agentCycleWorkflow } from '../workflows/agent-cycle';
import { type Policy, policyScheduleId } from './policy';
import { intervalSeconds } from './schedule-spec';

/** Temporal must confirm a schedule change within this long, or the request answers 503 and changes nothing. */
export const SCHEDULE_DEADLINE_MS = 10_000;
const CATCHUP_WINDOW = '10 minutes';
/** A cycle that runs longer than this is stopped (its patches' lifecycles are children that outlive it). */
const CYCLE_RUN_TIMEOUT = '3 hours';

function scheduleSpecOf(policy: Policy): ScheduleSpec {
  const { cron, interval } = policy.spec.schedule;
  if (cron !== undefined) return { cronExpressions: [cron] };
  return { intervals: [{ every: `${intervalSeconds(interval ?? '') ?? 0} seconds` }] };
}

function scheduleParts(policy: Policy, taskQueue: string) {
  return {
    spec: scheduleSpecOf(policy),
    action: {
      type: 'startWorkflow' as const,
      workflowType: agentCycleWorkflow,
      taskQueue,
      // Temporal appends each tick's time to this id: one workflow id per cycle.
      workflowId: `agent-cycle-${policy.id}`,
      args: [{ policyId: policy.id }] as [{ policyId: string }],
      workflowRunTimeout: CYCLE_RUN_TIMEOUT,
      staticSummary: `agent cycle of policy ${policy.name}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW },
  };
}

/** A read of the schedule's state must not hold up a page for long. */
const DESCRIBE_DEADLINE_MS = 1_000;

function within<T>(client: Client, call: () => Promise<T>, deadlineMs = SCHEDULE_DEADLINE_MS): Promise<T> {
  return client.connection.withDeadline(Date.now() + deadlineMs, call);
}

/** Creates the policy's schedule, or brings the existing one up to date (keeping whether it is paused). */
export async function upsertPolicySchedule(client: Client, policy: Policy, taskQueue: string): Promise<void> {
  const parts = scheduleParts(policy, taskQueue);
  const scheduleId = policyScheduleId(policy.id);
  try {
    await within(client, () => client.schedule.create({ scheduleId, ...parts, memo: { policyName: policy.name } }));
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await within(client, () => client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, ...parts })));
  }
}

/** Deletes the policy's schedule; one that is already gone is fine. */
export async function deletePolicySchedule(client: Client, policyId: string): Promise<void> {
  try {
    await within(client, () => client.schedule.getHandle(policyScheduleId(policyId)).delete());
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}

export type ScheduleCommand = 'pause' | 'resume';

/** Pauses or resumes the schedule. */
export async function commandPolicySchedule(client: Client, policyId: string, command: ScheduleCommand, note: string): Promise<void> {
  const handle = client.schedule.getHandle(policyScheduleId(policyId));
  await within(client, () => (command === 'pause' ? handle.pause(note) : handle.unpause(note)));
}

/**
 * Starts a cycle now, as the schedule's action does, under an id of its own (returned). Not through the schedule's
 * trigger: Temporal names a triggered cycle after the second it starts in and drops, without a word, a start whose
 * name it has used (temporalio/temporal#3614), and the schedule learns that a cycle ended up to a minute late, so
 * a run asked for could be lost either way. Cycles that overlap are safe, only redundant: each patch is created
 * once, and the later cycle counts what the earlier proposes as covered.
 */
export async function startPolicyCycle(client: Client, policy: Policy, taskQueue: string, note: string): Promise<string> {
  const { action } = scheduleParts(policy, taskQueue);
  const workflowId = `${action.workflowId}-run-${randomUUID()}`;
  await within(client, () =>
    client.workflow.start(action.workflowType, { workflowId, taskQueue, args: action.args, workflowRunTimeout: action.workflowRunTimeout, staticSummary: `${action.staticSummary} (${note})` }),
  );
  return workflowId;
}

/** What the schedule says now: paused or not (and why), its next tick; null when Temporal cannot tell within 1 s. */
export async function describePolicySchedule(client: Client, policyId: string): Promise<{ paused: boolean; note: string | null; nextRunAt: string | null } | null> {
  try {
    const description = await within(client, () => client.schedule.getHandle(policyScheduleId(policyId)).describe(), DESCRIBE_DEADLINE_MS);
    return { paused: description.state.paused, note: description.state.note ?? null, nextRunAt: description.info.nextActionTimes[0]?.toISOString() ?? null };
  } catch {
    return null;
  }
}
