/**
 * Rollback at fleet size: patches to 20 and 100 targets in one wave through the real stack. Each is approved, deploys
 * everywhere, then one target's health endpoint starts failing and the whole wave is reverted. Measured per patch:
 * approval to the first deploy, and the first failing sample (the endpoint's first failing answer) to the last
 * revert. Baseline of the same run (git alone): the same deploys and reverts by a plain script over the same
 * repositories, with the same parallelism.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { DEFAULT_REVERT_PARALLELISM, type PatchStatus } from '../src/domain/types';
import { inBoundedPool } from '../src/workflows/bounded-pool';
import { type ComparedFigure, comparedTable, percentile } from './report';
import type { BenchContext } from './run';
import { BENCH_DIFF, type BenchStack, type BenchTarget, gitCommand as git, startBenchStack } from './stack';

/** Deploys at once: the most the rollout allows. */
const DEPLOY_PARALLELISM = 16;
/** Issue #13's goal: 100 targets reverted within this long of the failing sample. */
const ROLLBACK_GOAL_MS = 10_000;
const HEALTH = { intervalSeconds: 2, windowSeconds: 3600, failureThreshold: 1 };
const ENDED: readonly PatchStatus[] = ['deployed', 'rolled_back', 'failed', 'rejected', 'test_failed', 'expired', 'cancelled'];

interface PatchTimings {
  approvalToFirstDeployMs: number;
  failingSampleToRolledBackMs: number;
  /** The failing sample to the first revert starting: how long the health round took to decide. */
  failingSampleToFirstRevertMs: number;
  /** Revert activities on average: scheduled to started (waiting for a worker slot), started to completed. */
  revertQueuedMs: number;
  revertRunMs: number;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(values.length, 1);
}

interface BaselineTimings {
  firstDeployMs: number;
  rollbackMs: number;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function eventTime(event: HistoryEvent): number {
  const time = event.eventTime;
  return Number(time?.seconds ?? 0) * 1000 + Math.round((time?.nanos ?? 0) / 1e6);
}

/** When the run's activities of a type were scheduled, started and closed, by the server's clock. */
function activityTimes(events: readonly HistoryEvent[], type: string): { scheduled: number[]; completed: number[]; queuedMs: number[]; runMs: number[] } {
  const scheduledAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  const times = { scheduled: [] as number[], completed: [] as number[], queuedMs: [] as number[], runMs: [] as number[] };
  for (const event of events) {
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === type) {
      scheduledAt.set(String(event.eventId), eventTime(event));
      times.scheduled.push(eventTime(event));
    }
    const started = event.activityTaskStartedEventAttributes;
    const scheduledTime = started ? scheduledAt.get(String(started.scheduledEventId)) : undefined;
    if (started && scheduledTime !== undefined) {
      startedAt.set(String(started.scheduledEventId), eventTime(event));
      times.queuedMs.push(eventTime(event) - scheduledTime);
    }
    const done = event.activityTaskCompletedEventAttributes;
    const doneStarted = done ? startedAt.get(String(done.scheduledEventId)) : undefined;
    if (done && doneStarted !== undefined) {
      times.completed.push(eventTime(event));
      times.runMs.push(eventTime(event) - doneStarted);
    }
  }
  return times;
}

/** One patch over the targets: created, approved, deployed everywhere, then rolled back by one failing target. */
async function rollBackOnce(stack: BenchStack, targets: readonly BenchTarget[], index: number): Promise<PatchTimings> {
  stack.health.reset();
  const created = await stack.api.call<{ id: string; workflowId: string }>('POST', '/api/v1/patches', {
    role: 'operator',
    body: {
      title: `Add a job time limit (rollback ${targets.length}, ${index + 1})`,
      type: 'bug_fix',
      description: 'bench',
      targets: targets.map((target) => target.id),
      diff: BENCH_DIFF,
      rollout: { waves: [{ percent: 100 }], health: HEALTH, parallelism: DEPLOY_PARALLELISM, revertParallelism: DEFAULT_REVERT_PARALLELISM },
    },
  });
  await stack.waitForPatch(created.id, ['awaiting_approval', ...ENDED]);
  const approvedAt = Date.now();
  await stack.api.call('POST', `/api/v1/patches/${created.id}/approve`, { role: 'guardian', body: {} });
  const handle = stack.client.workflow.getHandle(created.workflowId);
  for (;;) {
    const detail = await stack.api.call<{ status: PatchStatus; deployments: Array<{ status: string }> }>('GET', `/api/v1/patches/${created.id}`);
    if (ENDED.includes(detail.status)) throw new Error(`bench: rollback: patch ${created.id} ended ${detail.status} before it was deployed everywhere`);
    if (detail.deployments.length === targets.length && detail.deployments.every((deployment) => deployment.status === 'deployed')) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const failing = targets.at(-1);
  if (!failing) throw new Error('bench: rollback needs targets');
  stack.health.set(failing.name, 503);
  // The rollback is timed from the history's event times: a slow poll keeps its queries from loading the worker.
  const ended = await stack.waitForPatch(created.id, ENDED, { intervalMs: 1_000 });
  if (ended.status !== 'rolled_back') throw new Error(`bench: rollback: patch ${created.id} ended ${ended.status}, not rolled_back`);
  const failedAt = stack.health.firstFailureAt(failing.name);
  if (failedAt === undefined) throw new Error('bench: rollback: the failing endpoint was never asked');
  const events = (await handle.fetchHistory()).events ?? [];
  const deploys = activityTimes(events, 'deployTarget');
  const reverts = activityTimes(events, 'revertTarget');
  if (reverts.completed.length !== targets.length) throw new Error(`bench: rollback: ${reverts.completed.length} of ${targets.length} reverts completed`);
  return {
    approvalToFirstDeployMs: Math.min(...deploys.completed) - approvedAt,
    failingSampleToRolledBackMs: Math.max(...reverts.completed) - failedAt,
    failingSampleToFirstRevertMs: Math.min(...reverts.scheduled) - failedAt,
    revertQueuedMs: mean(reverts.queuedMs),
    revertRunMs: mean(reverts.runMs),
  };
}

/**
 * The same deploys and reverts over the same repositories by a plain script: a pool of clone, apply, commit, push
 * (the time to the first push stands for the first deploy), then a pool of clone, revert, push.
 */
async function gitAlone(dir: string, targets: readonly BenchTarget[], revertParallelism: number): Promise<BaselineTimings> {
  const work = mkdtempSync(path.join(dir, 'git-alone-'));
  try {
    const diffFile = path.join(work, 'patch.diff');
    writeFileSync(diffFile, BENCH_DIFF);
    const started = Date.now();
    let firstDeployMs = Number.POSITIVE_INFINITY;
    await inBoundedPool(targets, DEPLOY_PARALLELISM, async (target, index) => {
      const checkout = path.join(work, `deploy-${index}`);
      await git(work, ['clone', '-q', '--single-branch', '--branch=main', target.repoPath, checkout]);
      await git(checkout, ['apply', diffFile]);
      await git(checkout, ['commit', '-q', '-am', 'Add a job time limit']);
      await git(checkout, ['push', '-q', 'origin', 'main']);
      firstDeployMs = Math.min(firstDeployMs, Date.now() - started);
    });
    const reverting = Date.now();
    await inBoundedPool(targets, revertParallelism, async (target, index) => {
      const checkout = path.join(work, `revert-${index}`);
      await git(work, ['clone', '-q', '--single-branch', '--branch=main', target.repoPath, checkout]);
      await git(checkout, ['revert', '--no-edit', 'HEAD']);
      await git(checkout, ['push', '-q', 'origin', 'main']);
    });
    return { firstDeployMs, rollbackMs: Date.now() - reverting };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function seconds(ms: number): number {
  return ms / 1000;
}

export async function runRollbackBench(context: BenchContext): Promise<string> {
  // A 100-target patch is tested on every target first (minutes on 2 cores): fewer of them by default.
  const sizes = context.full ? [{ size: 20, patches: 10 }, { size: 100, patches: 10 }] : [{ size: 20, patches: 3 }, { size: 100, patches: 2 }];
  const stack = await startBenchStack({ log: context.log });
  try {
    const lines: string[] = [];
    const figures: ComparedFigure[] = [];
    for (const { size, patches: patchesPerSize } of sizes) {
      // The same targets for every patch of a size: each rollback leaves their files as they were.
      const targets = await stack.createTargets(size, { prefix: `rollback${size}` });
      const lifecycle: PatchTimings[] = [];
      const baseline: BaselineTimings[] = [];
      for (let index = 0; index < patchesPerSize; index += 1) {
        context.log(`bench: rollback: ${size} targets, patch ${index + 1} of ${patchesPerSize}`);
        lifecycle.push(await rollBackOnce(stack, targets, index));
        baseline.push(await gitAlone(stack.dir, targets, DEFAULT_REVERT_PARALLELISM));
      }
      const of = (values: number[], fraction: number): number => seconds(percentile(values, fraction));
      for (const [label, fraction] of [['p50', 0.5], ['p99', 0.99]] as const) {
        figures.push(
          { measure: `${size} targets: approval to first deploy, ${label}`, value: of(lifecycle.map((timing) => timing.approvalToFirstDeployMs), fraction), baseline: of(baseline.map((timing) => timing.firstDeployMs), fraction), unit: 's', baselineName: 'git alone: first push' },
          { measure: `${size} targets: failing sample to rolled back, ${label}`, value: of(lifecycle.map((timing) => timing.failingSampleToRolledBackMs), fraction), baseline: of(baseline.map((timing) => timing.rollbackMs), fraction), unit: 's', baselineName: 'git alone: every revert' },
        );
      }
      const worst = Math.max(...lifecycle.map((timing) => timing.failingSampleToRolledBackMs));
      const decided = lifecycle.map((timing) => seconds(timing.failingSampleToFirstRevertMs).toFixed(2)).join(', ');
      const perRevert = lifecycle.map((timing) => `${seconds(timing.revertQueuedMs).toFixed(2)} s queued + ${seconds(timing.revertRunMs).toFixed(2)} s running`).join(', ');
      lines.push(`- ${size} targets: the failing sample to the first revert (the health round deciding) took ${decided} s; the slowest rollback ${seconds(worst).toFixed(1)} s; a revert activity on average: ${perRevert}.`);
      if (size === 100) lines.push(`- Goal (issue #13): 100 targets reverted within ${seconds(ROLLBACK_GOAL_MS)} s of the failing sample: ${worst <= ROLLBACK_GOAL_MS ? 'met' : '**missed**'} (slowest of ${patchesPerSize}).`);
    }
    return [
      '## Rollback',
      '',
      `Measured by \`npm run bench\` (bench/rollback.ts${context.full ? ', --full' : ''}) on ${context.machine}: the whole stack on this machine (Temporal dev server, embedded PostgreSQL, worker and API processes).`,
      `${sizes.map(({ size, patches }) => `${patches} patches to ${size} targets`).join(' and ')}, each to every target in one wave (deploy parallelism ${DEPLOY_PARALLELISM}, revertParallelism ${DEFAULT_REVERT_PARALLELISM}, health every ${HEALTH.intervalSeconds} s); once all are deployed one target's endpoint fails and the whole wave is reverted.`,
      'Approval to first deploy: from the approval request to the first deploy activity completing. Failing sample to rolled back: from the endpoint\'s first failing answer to the last revert activity completing (Temporal\'s event times).',
      `Git alone: the same deploys and reverts over the same repositories by a plain script (clone, apply, commit, push; then clone, revert, push), ${DEPLOY_PARALLELISM} and ${DEFAULT_REVERT_PARALLELISM} at a time.`,
      '',
      comparedTable(figures),
      '',
      ...lines,
      '',
    ].join('\n');
  } finally {
    await stack.stop();
  }
}
