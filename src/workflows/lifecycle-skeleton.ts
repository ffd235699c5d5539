/**
 * "Temporal alone": a workflow with the command shape of a recorded patch lifecycle (the same activities in the
 * same groups, the same timers, the approval wait) whose activities do nothing. `npm run bench` runs it beside the
 * real lifecycle to tell Temporal's own cost from ours; the service's worker does not register it.
 */
import { condition, defineSignal, proxyActivities, setHandler, sleep } from '@temporalio/workflow';

/** The commands one workflow task of the recorded run issued, and what had finished before that task. */
export interface SkeletonStep {
  /** Ids of earlier activities and timers that had completed or fired before the recorded task ran. */
  after: number[];
  /** Whether the recorded task handled the approval (the skeleton waits for approveSkeleton). */
  approval: boolean;
  activities: Array<{ id: number; type: string }>;
  timers: Array<{ id: number; ms: number }>;
}

export interface LifecycleShape {
  steps: SkeletonStep[];
}

export const approveSkeletonSignal = defineSignal('approve');

/** Every activity of the skeleton is a no-op registered under the recorded activity's type. */
const nothing = proxyActivities<Record<string, () => Promise<void>>>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

export async function lifecycleSkeletonWorkflow(shape: LifecycleShape): Promise<void> {
  let approved = false;
  setHandler(approveSkeletonSignal, () => {
    approved = true;
  });
  const started = new Map<number, Promise<void>>();
  for (const step of shape.steps) {
    await Promise.all(step.after.flatMap((id) => started.get(id) ?? []));
    if (step.approval) await condition(() => approved);
    for (const activity of step.activities) started.set(activity.id, nothing[activity.type]?.() ?? Promise.resolve());
    for (const timer of step.timers) started.set(timer.id, sleep(timer.ms));
  }
  await Promise.all(started.values());
}
