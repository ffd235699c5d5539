/**
 * Worker memory with patches waiting for approval (issue #13): the worker process's resident memory as waiting
 * patches pile up on the default settings, each figure beside the same worker's with none waiting; what a waiting
 * patch held in the workflow cache costs, with the default cache and with one that holds them all; and what a patch
 * that is not in the cache (evicted, or not loaded since the worker started: the same replay) costs when its
 * approval arrives, beside a cached one's.
 */
import { loadConfig } from '../src/config';
import { TERMINAL_PATCH_STATUSES } from '../src/domain/types';
import { patchStatusQuery } from '../src/workflows/patch-lifecycle';
import { inBoundedPool } from '../src/workflows/bounded-pool';
import { comparedTable, type ComparedFigure, percentile } from './report';
import type { BenchContext } from './run';
import { BENCH_DIFF, type BenchStack, type BenchTarget, startBenchStack } from './stack';

interface MemoryBenchSizes {
  /** Waiting patches at which the worker's RSS is read while they are created, ascending; 0 is the baseline. */
  waiting: number[];
  /** Approvals timed per kind (cached, not cached), each of a patch of its own waiting on a target of its own. */
  approvals: number;
}

const FULL_SIZES: MemoryBenchSizes = { waiting: [0, 500, 2000], approvals: 20 };
// A waiting patch runs its test stages first: about a second of wall time per patch, 16 at a time, on 2 cores. So
// the defaults take about 3 minutes, and --full about an hour.
const DEFAULT_SIZES: MemoryBenchSizes = { waiting: [0, 15, 40], approvals: 4 };
/** The waiting patches of the memory figures share these targets: they are never approved, their tests only read them. */
const SHARED_TARGETS = 5;
/** Approvals of one kind and the other alternate, after one warm-up of each. */
const WARM_UPS = 2;
const SEEDING_CONCURRENCY = 16;
const LOADING_CONCURRENCY = 8;
/** Large enough to hold every waiting patch of the full run. */
const LARGE_CACHE = 10_000;
const MiB = 2 ** 20;

interface CacheReading {
  setting: string;
  /** RSS of the freshly started worker, nothing cached. */
  emptyBytes: number;
  /** RSS once every waiting patch was loaded (queried) into the worker. */
  loadedBytes: number;
  cachedPatches: number;
}

export interface MemoryBenchResult {
  sizes: MemoryBenchSizes;
  /** The worker's RSS with `waiting` patches, on the default settings; the first is the baseline (0 waiting). */
  growth: Array<{ waiting: number; rssBytes: number }>;
  /** Wall time of creating one waiting patch through the API, its test stages included. */
  seedingMsPerPatch: number;
  historyEvents: number;
  defaultCache: number;
  caches: CacheReading[];
  approveCachedMs: number[];
  approveNotCachedMs: number[];
}

const mib = (bytes: number): number => bytes / MiB;

/** Issue #13's goal, judged from the reading at 2,000 waiting patches (only --full gets there). */
const GOAL_WAITING = 2000;
const GOAL_BYTES = 1024 * MiB;
function goalVerdict(growth: MemoryBenchResult['growth']): string {
  const reading = growth.find(({ waiting }) => waiting >= GOAL_WAITING);
  if (reading === undefined) return `Goal (issue #13): ${GOAL_WAITING} waiting patches under 1 GiB: not measured at this size (\`--full\` measures it).`;
  return `Goal (issue #13): ${GOAL_WAITING} waiting patches under 1 GiB: ${reading.rssBytes < GOAL_BYTES ? 'met' : '**missed**'} (${mib(reading.rssBytes).toFixed(0)} MiB with ${reading.waiting} waiting).`;
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The worker's RSS once it is idle for a moment (in-flight tasks and the heartbeat settle). */
async function settledRss(stack: BenchStack): Promise<number> {
  await sleep(3000);
  return stack.worker().rssBytes();
}

/** Creates patches through the API until `count` are awaiting approval; returns their ids. */
async function seedWaitingPatches(stack: BenchStack, targets: readonly BenchTarget[], first: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  await inBoundedPool(
    Array.from({ length: count }, (_, offset) => first + offset),
    SEEDING_CONCURRENCY,
    async (number) => {
      const target = targets[number % targets.length] as BenchTarget;
      const patch = await stack.api.call<{ id: string }>('POST', '/api/v1/patches', {
        role: 'operator',
        body: {
          title: `Add a job time limit (waiting ${number})`,
          type: 'bug_fix',
          description: 'bench: waits for approval',
          targets: [target.id],
          diff: BENCH_DIFF,
          rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1 } },
        },
      });
      // Polled slowly: with many patches in flight a fast poll's queries would load the worker being measured.
      const reached = await stack.waitForPatch(patch.id, ['awaiting_approval', 'test_failed', 'failed'], { intervalMs: 500 });
      if (reached.status !== 'awaiting_approval') throw new Error(`bench: patch ${patch.id} ended ${reached.status} instead of waiting for approval`);
      ids.push(patch.id);
    },
  );
  return ids;
}

/** Loads each patch's run into the worker: a query of a run that is not cached replays it into the cache. */
async function loadIntoWorker(stack: BenchStack, patchIds: readonly string[]): Promise<void> {
  await inBoundedPool(patchIds, LOADING_CONCURRENCY, async (id) => {
    await stack.client.workflow.getHandle(`patch-${id}`).query(patchStatusQuery);
  });
}

async function timedApproval(stack: BenchStack, patchId: string): Promise<number> {
  const started = performance.now();
  await stack.api.call('POST', `/api/v1/patches/${patchId}/approve`, { role: 'guardian', body: {} });
  return performance.now() - started;
}

export async function runMemoryBench(context: BenchContext): Promise<MemoryBenchResult> {
  const sizes = context.full ? FULL_SIZES : DEFAULT_SIZES;
  const defaultCache = loadConfig({}).worker.maxCachedWorkflows;
  const stack = await startBenchStack({ log: context.log });
  try {
    const sharedTargets = await stack.createTargets(SHARED_TARGETS, { prefix: 'waiting' });
    const growth: MemoryBenchResult['growth'] = [];
    const waitingIds: string[] = [];
    let seedingMs = 0;
    for (const size of sizes.waiting) {
      const started = performance.now();
      waitingIds.push(...(await seedWaitingPatches(stack, sharedTargets, waitingIds.length, size - waitingIds.length)));
      seedingMs += performance.now() - started;
      growth.push({ waiting: size, rssBytes: await settledRss(stack) });
      context.log(`bench: memory: ${size} waiting, worker RSS ${(mib(growth.at(-1)?.rssBytes ?? 0)).toFixed(0)} MiB`);
    }
    const seedingMsPerPatch = seedingMs / Math.max(1, waitingIds.length);
    // The approved patches deploy: each on a target of its own, so no deploy meets another's commit.
    const approvalTargets = await stack.createTargets(2 * sizes.approvals + WARM_UPS, { prefix: 'approved' });
    const approvalIds = await seedWaitingPatches(stack, approvalTargets, 0, approvalTargets.length);
    waitingIds.push(...approvalIds);
    const history = await stack.client.workflow.getHandle(`patch-${waitingIds[0] ?? ''}`).fetchHistory();

    const caches: CacheReading[] = [];
    for (const [setting, cache] of [[`default (${defaultCache})`, undefined], [`${LARGE_CACHE}`, LARGE_CACHE]] as const) {
      await stack.restartWorker(cache === undefined ? {} : { WORKER_MAX_CACHED_WORKFLOWS: String(cache) });
      const emptyBytes = await settledRss(stack);
      await loadIntoWorker(stack, waitingIds);
      caches.push({ setting, emptyBytes, loadedBytes: await settledRss(stack), cachedPatches: Math.min(waitingIds.length, cache ?? defaultCache) });
      context.log(`bench: memory: cache ${setting}: ${waitingIds.length} waiting patches loaded`);
    }

    // A fresh worker on the defaults: nothing is cached until a patch is queried.
    await stack.restartWorker();
    const approveCachedMs: number[] = [];
    const approveNotCachedMs: number[] = [];
    for (const [index, id] of approvalIds.entries()) {
      const cached = index % 2 === 0;
      if (cached) await loadIntoWorker(stack, [id]);
      const ms = await timedApproval(stack, id);
      if (index >= WARM_UPS) (cached ? approveCachedMs : approveNotCachedMs).push(ms);
      // The next approval starts on an idle worker, not beside this one's rollout.
      await stack.waitForPatch(id, TERMINAL_PATCH_STATUSES);
    }
    return {
      sizes,
      growth,
      seedingMsPerPatch,
      historyEvents: history.events?.length ?? 0,
      defaultCache,
      caches,
      approveCachedMs,
      approveNotCachedMs,
    };
  } finally {
    await stack.stop();
  }
}

export function memoryBenchMarkdown(result: MemoryBenchResult, machine: string): string {
  const [baseline] = result.growth;
  const growthFigures: ComparedFigure[] = result.growth
    .filter((reading) => reading.waiting > 0 && result.sizes.waiting.includes(reading.waiting))
    .map((reading) => ({ measure: `worker RSS, ${reading.waiting} patches waiting`, value: mib(reading.rssBytes), baseline: mib(baseline?.rssBytes ?? 0), unit: 'MiB', baselineName: '0 waiting' }));
  const perPatch = result.growth
    .filter((reading) => reading.waiting > 0 && result.sizes.waiting.includes(reading.waiting))
    .map((reading) => `${reading.waiting}: ${(mib(reading.rssBytes - (baseline?.rssBytes ?? 0)) / reading.waiting).toFixed(2)} MiB`);
  const cacheFigures: ComparedFigure[] = result.caches.map((reading) => ({
    measure: `worker RSS, cache ${reading.setting}, ${reading.cachedPatches} waiting patches cached`,
    value: mib(reading.loadedBytes),
    baseline: mib(reading.emptyBytes),
    unit: 'MiB',
    baselineName: 'same worker, nothing cached',
  }));
  const perCached = result.caches.map((reading) => `cache ${reading.setting}: ${(mib(reading.loadedBytes - reading.emptyBytes) / reading.cachedPatches).toFixed(2)} MiB`);
  const approvalFigures: ComparedFigure[] = [0.5, 0.99].map((fraction) => ({
    measure: `approve call, patch not cached (replays), p${Math.round(fraction * 100)}`,
    value: percentile(result.approveNotCachedMs, fraction),
    baseline: percentile(result.approveCachedMs, fraction),
    unit: 'ms',
    baselineName: 'cached patch',
  }));
  return [
    '## Worker memory',
    '',
    `Measured by \`npm run bench\` (bench/memory.ts${result.sizes.waiting.at(-1) === FULL_SIZES.waiting.at(-1) ? ', `--full`' : ''}) on ${machine}: the worker in a process of its own on the default settings ` +
      `(\`WORKER_MAX_CACHED_WORKFLOWS\` ${result.defaultCache}); each waiting patch has one target and went through its test stages ` +
      `(${(result.seedingMsPerPatch / 1000).toFixed(1)} s of wall time per patch, ${SEEDING_CONCURRENCY} at a time; ${result.historyEvents} history events when it waits). ` +
      `${result.approveCachedMs.length * 2 + WARM_UPS} more waiting patches, on targets of their own, are approved at the end. Goal: 2,000 waiting patches under 1 GiB.`,
    '',
    comparedTable(growthFigures),
    '',
    `Growth per waiting patch: ${perPatch.join(', ')}.`,
    '',
    goalVerdict(result.growth),
    '',
    'All the waiting patches loaded (queried) into a freshly started worker, with the default cache and with one that holds them all:',
    '',
    comparedTable(cacheFigures),
    '',
    `Per cached waiting patch: ${perCached.join(', ')}.`,
    '',
    `An approval of a waiting patch that is not in the cache replays its history first (${result.approveNotCachedMs.length} approvals of each kind, alternating, through the API, each after the previous rollout ended; the call returns once the workflow recorded the approval):`,
    '',
    comparedTable(approvalFigures),
    '',
  ].join('\n');
}
