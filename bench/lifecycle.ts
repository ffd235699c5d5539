/**
 * Lifecycle overhead: a batch of patches (3 targets, 2 waves, 1 s health windows; every fourth patch's targets are
 * unhealthy, so it deploys its first wave and rolls it back) through the real stack, against two baselines of the
 * same run: Temporal alone (the same command shape with activities that do nothing, read from the recorded
 * histories) and git alone (the same commits and reverts by a plain script over copies of the repositories).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { PatchStatus } from '../src/domain/types';
import { inBoundedPool } from '../src/workflows/bounded-pool';
import { approveSkeletonSignal, type LifecycleShape, lifecycleSkeletonWorkflow } from '../src/workflows/lifecycle-skeleton';
import { activityTimes, type HistoryEvent, lifecyclePhases, lifecycleShape, shapeActivityTypes } from './lifecycle-shape';
import { type ComparedFigure, comparedTable } from './report';
import type { BenchContext } from './run';
import { BENCH_DIFF, BENCH_WORKFLOW, BENCH_WORKFLOW_PATH, type BenchStack, type BenchTarget, createBareRepository, gitCommand as git, startBenchStack } from './stack';

const TARGETS_PER_PATCH = 3;
/** Runs of each baseline; the fastest counts, so a run the machine slowed down does not flatter the ratio. */
const BASELINE_RUNS = 2;
const FAILING_EVERY = 4;
const ROLLOUT = { waves: [{ percent: 50 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1 } };

interface PatchRun {
  id: string;
  workflowId: string;
  targets: BenchTarget[];
  failing: boolean;
  status?: PatchStatus;
}

interface PatchListItem {
  id: string;
  status: PatchStatus;
}

/** Creates the patches, approves each as soon as it waits, and returns when every one has finished. */
async function runLifecycles(stack: BenchStack, runs: PatchRun[]): Promise<number> {
  const started = Date.now();
  const approved = new Set<string>();
  const creating = inBoundedPool(runs, 8, async (patch, index) => {
    const answer = await stack.api.call<{ id: string; workflowId: string }>('POST', '/api/v1/patches', {
      role: 'operator',
      body: { title: `Add a job time limit (${index + 1})`, type: 'bug_fix', description: 'bench', targets: patch.targets.map((target) => target.id), diff: BENCH_DIFF, rollout: ROLLOUT },
    });
    patch.id = answer.id;
    patch.workflowId = answer.workflowId;
  });
  // Each lifecycle's end from its workflow (whose last step waits for every read-model write), the waiting patches
  // from a list of those alone: the bench's own reads stay small, as a client's that watches a batch would.
  let lastEnd = 0;
  const ending = creating.then(() =>
    Promise.all(
      runs.map(async (patch) => {
        await stack.client.workflow.getHandle(patch.workflowId).result();
        lastEnd = Date.now();
      }),
    ),
  );
  // Watched from the loop below: a failed creation or run ends the bench (and the stack) at once, not as an unhandled rejection.
  let outcome: { ended: true } | { error: unknown } | undefined;
  ending.then(
    () => (outcome = { ended: true }),
    (error: unknown) => (outcome = { error }),
  );
  // Approvals are sent without holding up the next poll: a Guardian's answer does not stop the watch of the others.
  const approving: Array<Promise<unknown>> = [];
  while (outcome === undefined) {
    const ours = new Set(runs.map((patch) => patch.id));
    const { items } = await stack.api.call<{ items: PatchListItem[] }>('GET', '/api/v1/patches?status=awaiting_approval&limit=500');
    for (const item of items.filter((candidate) => !approved.has(candidate.id) && ours.has(candidate.id))) {
      approved.add(item.id);
      const approval = stack.api.call('POST', `/api/v1/patches/${item.id}/approve`, { role: 'guardian', body: {} });
      approval.catch((error: unknown) => (outcome ??= { error }));
      approving.push(approval);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await Promise.allSettled(approving);
  if ('error' in outcome) throw outcome.error;
  for (const patch of runs) patch.status = (await stack.api.call<PatchListItem>('GET', `/api/v1/patches/${patch.id}`)).status;
  return lastEnd - started;
}

/** The shortest of `runs` sequential measurements. */
async function fastestOf(runs: number, measure: () => Promise<number>): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run += 1) fastest = Math.min(fastest, await measure());
  return fastest;
}

/** The same shapes run by a worker whose activities do nothing. */
async function runSkeletons(stack: BenchStack, shapes: LifecycleShape[]): Promise<number> {
  const taskQueue = 'wpa-bench-skeleton';
  const connection = await NativeConnection.connect({ address: stack.temporalAddress });
  try {
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowsPath: require.resolve('../src/workflows/lifecycle-skeleton'),
      activities: Object.fromEntries(shapeActivityTypes(shapes).map((type) => [type, () => Promise.resolve()])),
    });
    return await worker.runUntil(async () => {
      const started = Date.now();
      await Promise.all(
        shapes.map(async (shape, index) => {
          const handle = await stack.client.workflow.start(lifecycleSkeletonWorkflow, { taskQueue, workflowId: `skeleton-${index}-${started}`, args: [shape] });
          await handle.signal(approveSkeletonSignal);
          await handle.result();
        }),
      );
      return Date.now() - started;
    });
  } finally {
    await connection.close();
  }
}

/** The commits (and, for rolled-back patches, the reverts) the lifecycles made, by a plain script on fresh copies. */
async function runGitAlone(dir: string, runs: readonly PatchRun[], deployedTargets: Map<string, { deployed: number; reverted: number }>): Promise<number> {
  const work = mkdtempSync(path.join(dir, 'git-alone-'));
  const jobs = runs.flatMap((patch, patchIndex) => {
    const counts = deployedTargets.get(patch.id) ?? { deployed: 0, reverted: 0 };
    return Array.from({ length: counts.deployed }, (_, index) => ({ name: `p${patchIndex}-t${index}`, revert: index < counts.reverted }));
  });
  const repos = jobs.map((job) => createBareRepository(work, job.name, { [BENCH_WORKFLOW_PATH]: BENCH_WORKFLOW }));
  const diffFile = path.join(work, 'patch.diff');
  writeFileSync(diffFile, BENCH_DIFF);
  const started = Date.now();
  // Twice the cores: git waits on the disk as much as it computes.
  await inBoundedPool(jobs, cpus().length * 2, async (job, index) => {
    const checkout = path.join(work, `${job.name}-checkout`);
    mkdirSync(checkout);
    await git(work, ['clone', '-q', repos[index] ?? '', checkout]);
    await git(checkout, ['apply', diffFile]);
    await git(checkout, ['commit', '-q', '-am', 'Add a job time limit']);
    await git(checkout, ['push', '-q', 'origin', 'main']);
    if (job.revert) {
      await git(checkout, ['revert', '--no-edit', 'HEAD']);
      await git(checkout, ['push', '-q', 'origin', 'main']);
    }
  });
  const elapsed = Date.now() - started;
  rmSync(work, { recursive: true, force: true });
  return elapsed;
}

export async function runLifecycleBench(context: BenchContext): Promise<string> {
  const patchCount = context.full ? 200 : 20;
  // As `npm start` runs it: the worker's tests start from the fetch the API made to judge the patch's quorum.
  const stack = await startBenchStack({ log: context.log, allInOne: true });
  try {
    const targets = await stack.createTargets(patchCount * TARGETS_PER_PATCH);
    const runs: PatchRun[] = Array.from({ length: patchCount }, (_, index) => ({
      id: '',
      workflowId: '',
      targets: targets.slice(index * TARGETS_PER_PATCH, (index + 1) * TARGETS_PER_PATCH),
      failing: index % FAILING_EVERY === FAILING_EVERY - 1,
    }));
    for (const patch of runs.filter((candidate) => candidate.failing)) for (const target of patch.targets) stack.health.set(target.name, 503);
    context.log(`bench: lifecycle: ${patchCount} patches × ${TARGETS_PER_PATCH} targets`);
    const lifecycleMs = await runLifecycles(stack, runs);

    const outcomes = new Map<string, { deployed: number; reverted: number }>();
    for (const patch of runs) {
      const detail = await stack.api.call<{ deployments: Array<{ status: string; deployedCommit: string | null }> }>('GET', `/api/v1/patches/${patch.id}`);
      outcomes.set(patch.id, {
        deployed: detail.deployments.filter((deployment) => deployment.deployedCommit !== null).length,
        reverted: detail.deployments.filter((deployment) => deployment.status === 'reverted').length,
      });
    }
    const histories = new Map<string, HistoryEvent[]>();
    for (const patch of runs) histories.set(patch.id, (await stack.client.workflow.getHandle(patch.workflowId).fetchHistory()).events ?? []);
    const shapeOf = (patch: PatchRun | undefined): LifecycleShape => {
      if (!patch) throw new Error('bench: no patch of that kind ran');
      return lifecycleShape(histories.get(patch.id) ?? []);
    };
    const healthyShape = shapeOf(runs.find((patch) => !patch.failing && patch.status === 'deployed'));
    const failingShape = shapeOf(runs.find((patch) => patch.failing && patch.status === 'rolled_back'));
    context.log('bench: lifecycle: Temporal alone');
    const shapes = runs.map((patch) => (patch.failing ? failingShape : healthyShape));
    const temporalMs = await fastestOf(BASELINE_RUNS, () => runSkeletons(stack, shapes));
    context.log('bench: lifecycle: git alone');
    const gitMs = await fastestOf(BASELINE_RUNS, () => runGitAlone(stack.dir, runs, outcomes));

    const statuses = runs.reduce<Record<string, number>>((counts, patch) => ({ ...counts, [patch.status ?? 'unknown']: (counts[patch.status ?? 'unknown'] ?? 0) + 1 }), {});
    const perMinute = (ms: number): number => (patchCount / ms) * 60_000;
    const figures: ComparedFigure[] = [
      { measure: `wall time of ${patchCount} lifecycles`, value: lifecycleMs / 1000, baseline: (temporalMs + gitMs) / 1000, unit: 's', baselineName: 'Temporal alone + git alone', maxRatio: 1.5 },
      { measure: 'lifecycles per minute', value: perMinute(lifecycleMs), baseline: perMinute(temporalMs + gitMs), unit: '/min', baselineName: 'Temporal alone + git alone' },
      { measure: 'Temporal alone', value: temporalMs / 1000, baseline: lifecycleMs / 1000, unit: 's', baselineName: 'the lifecycles' },
      { measure: 'git alone', value: gitMs / 1000, baseline: lifecycleMs / 1000, unit: 's', baselineName: 'the lifecycles' },
    ];
    const phases = [...histories.values()].map((events) => lifecyclePhases(events, 'testTargetStages'));
    const phaseLine = (name: string, of: (phase: (typeof phases)[number]) => number): string => {
      const values = phases.map(of);
      return `| ${name} | ${(values.reduce((sum, value) => sum + value, 0) / values.length / 1000).toFixed(2)} s | ${(Math.max(...values) / 1000).toFixed(2)} s |`;
    };
    const commits = [...outcomes.values()].reduce((sum, counts) => sum + counts.deployed, 0);
    const reverts = [...outcomes.values()].reduce((sum, counts) => sum + counts.reverted, 0);
    return [
      '## Lifecycle overhead',
      '',
      `Measured by \`npm run bench\` (bench/lifecycle.ts${context.full ? ', --full' : ''}) on ${context.machine}: the whole stack on this machine as \`npm start\` runs it (Temporal dev server, embedded PostgreSQL, one process for the worker and the API).`,
      `${patchCount} patches × ${TARGETS_PER_PATCH} targets, waves 50 % / 100 %, health every 1 s for 1 s, every ${FAILING_EVERY}th patch unhealthy (rolled back), all created at once and each approved as soon as it waited; the targets' own CI runs (act) are off.`,
      `Outcome: ${Object.entries(statuses).map(([status, count]) => `${count} ${status}`).join(', ')}; ${commits} commits and ${reverts} reverts.`,
      `Temporal alone: the same command shapes (read from a deployed and a rolled-back history of this run, activities that do nothing). Git alone: the same commits and reverts by a script (clone, apply, commit, push, revert, push), twice the cores at a time. Each baseline runs ${BASELINE_RUNS} times and its fastest run counts.`,
      '',
      comparedTable(figures),
      '',
      'Where a lifecycle\'s wall time went (from its history: start to the last test stage, to the approval, to the end):',
      '',
      '| phase | mean | slowest |',
      '| --- | --- | --- |',
      phaseLine('test stages', (phase) => phase.testsMs),
      phaseLine('awaiting the approval (the bench approves at its next poll)', (phase) => phase.awaitingApprovalMs),
      phaseLine('approval to the end (waves, health windows, reverts)', (phase) => phase.rolloutMs),
      '',
      'Where the lifecycles spent their activity time (summed over all patches; queued: scheduled until a worker started it):',
      '',
      '| activity | count | queued, mean | running, mean | running, total |',
      '| --- | --- | --- | --- | --- |',
      ...activityTimes([...histories.values()]).map(
        (time) => `| \`${time.type}\` | ${time.count} | ${(time.queuedMs / time.count).toFixed(0)} ms | ${(time.runningMs / time.count).toFixed(0)} ms | ${(time.runningMs / 1000).toFixed(1)} s |`,
      ),
      '',
    ].join('\n');
  } finally {
    await stack.stop();
  }
}
