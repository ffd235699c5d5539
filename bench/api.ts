/**
 * API read benchmark (issue #13): with 2,000 patches in the read model (targets, transitions, test runs,
 * approvals, deployments and health samples, written by the store functions the lifecycle's activities use),
 * GET /api/v1/patches measured one request at a time next to the baselines of the same run: GET /healthz (HTTP and
 * express alone) and GET /whoami (plus JWT verification) over the same connection, and the list's query through a
 * pool of the bench's own. Then reads (a list, then one patch, in turn) at a fixed overall rate (an open-loop generator of its own),
 * next to GET /healthz at the same rate.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPatchSchema } from '../src/api/schemas';
import type { PatchStatus, Target, TestStage } from '../src/domain/types';
import { TEST_STAGES } from '../src/domain/types';
import { createPatch, listPatches, recordPatchTransition, saveApproval, saveDeployment, saveHealthRound, saveTestRuns } from '../src/store/patches';
import { createTarget } from '../src/store/targets';
import { inBoundedPool } from '../src/workflows/bounded-pool';
import { comparedTable, percentile } from './report';
import type { BenchContext } from './run';
import { BENCH_DIFF, type BenchStack, startBenchStack } from './stack';

export interface ApiBenchOptions {
  patches: number;
  targets: number;
  /** Timed requests per measured route (after a warm-up), one at a time. */
  sequentialRequests: number;
  /** Requests per second of the load, over all connections. */
  loadRate: number;
  loadSeconds: number;
  /** The baseline load (GET /healthz at the same rate). */
  baselineLoadSeconds: number;
}

export const DEFAULT_API_BENCH: ApiBenchOptions = { patches: 2_000, targets: 200, sequentialRequests: 300, loadRate: 200, loadSeconds: 30, baselineLoadSeconds: 10 };

/** Issue #13's goal for the list. */
const LIST_P99_GOAL_MS = 50;
const SEED_CONCURRENCY = 16;
const WARMUP_REQUESTS = 30;
/** Enough connections for 200 requests/s at up to 250 ms each; more would be a pile-up worth seeing as latency. */
const LOAD_MAX_CONNECTIONS = 50;
const LOAD_TIMEOUT_MS = 10_000;

/** Where the seeded patches ended up, in the proportions of a fleet that has been patched for a while. */
const STATUS_MIX: Array<[PatchStatus, number]> = [
  ['deployed', 0.55],
  ['rolled_back', 0.08],
  ['rejected', 0.07],
  ['test_failed', 0.08],
  ['expired', 0.02],
  ['awaiting_approval', 0.12],
  ['deploying', 0.05],
  ['testing', 0.03],
];

/** The transitions that lead to each status. */
const PATHS: Record<string, PatchStatus[]> = {
  deployed: ['pending', 'testing', 'awaiting_approval', 'deploying', 'deployed'],
  rolled_back: ['pending', 'testing', 'awaiting_approval', 'deploying', 'rolling_back', 'rolled_back'],
  rejected: ['pending', 'testing', 'awaiting_approval', 'rejected'],
  test_failed: ['pending', 'testing', 'test_failed'],
  expired: ['pending', 'testing', 'awaiting_approval', 'expired'],
  awaiting_approval: ['pending', 'testing', 'awaiting_approval'],
  deploying: ['pending', 'testing', 'awaiting_approval', 'deploying'],
  testing: ['pending', 'testing'],
};

/** A deterministic generator, so every run seeds the same read model. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function pick<T>(random: () => number, mix: Array<[T, number]>): T {
  let left = random();
  for (const [value, share] of mix) {
    left -= share;
    if (left < 0) return value;
  }
  return (mix[mix.length - 1] as [T, number])[0];
}

/** Most patches name one or a few targets; a few are fleet-wide campaigns. */
function targetCount(random: () => number, fleet: number): number {
  const draw = random();
  if (draw < 0.7) return 1;
  if (draw < 0.9) return 2 + Math.floor(random() * 4);
  if (draw < 0.98) return 6 + Math.floor(random() * 15);
  return Math.min(fleet, 50);
}

const ROLLOUT = createPatchSchema.parse({ title: 'seed', type: 'bug_fix', targets: [randomUUID()], diff: BENCH_DIFF }).rollout;
const DESCRIPTION =
  'Jobs without a time limit run for up to six hours when a step hangs, holding a runner and delaying every queued build. ' +
  'This sets timeout-minutes on the build job; the limit is three times its slowest run of the last 90 days.';

/** One patch through the lifecycle up to `status`, written as the activities write it. */
async function seedPatch(stack: BenchStack, targets: Target[], status: PatchStatus, index: number): Promise<string> {
  const id = randomUUID();
  const pool = stack.pool;
  await createPatch(pool, {
    id,
    workflowId: `patch-${id}`,
    title: `Add a job time limit (${index})`,
    type: 'bug_fix',
    description: DESCRIPTION,
    author: 'bench-operator',
    diff: BENCH_DIFF,
    targets,
    rollout: ROLLOUT,
    approval: { quorum: 1, timeoutSeconds: 259_200, requestedQuorum: 1, reasons: ['the quorum requested'] },
  });
  const path = PATHS[status] ?? ['pending'];
  const at = Date.now();
  for (const [seq, to] of path.entries()) {
    await recordPatchTransition(pool, { patchId: id, seq: seq + 1, from: seq === 0 ? null : (path[seq - 1] ?? null), to, reason: null, at: new Date(at + seq).toISOString() });
  }
  const tested = path.includes('awaiting_approval') || status === 'test_failed';
  if (tested) {
    for (const target of targets) {
      await saveTestRuns(
        pool,
        TEST_STAGES.map((stage) => {
          const passed = status !== 'test_failed' || stage !== ('safety' satisfies TestStage);
          return {
            patchId: id,
            stage,
            targetId: target.id,
            passed,
            summary: passed ? `${stage}: passed` : `${stage}: a job lost its permissions`,
            log: `${stage} ran 2 jobs in 3.1 s`,
            details: { commit: 'a'.repeat(40) },
            startedAt: new Date(at),
            finishedAt: new Date(at + 3_100),
          };
        }),
      );
    }
  }
  if (status === 'rejected') await saveApproval(pool, id, { guardian: 'bench-guardian', decision: 'rejected', comment: 'not now', at: new Date(at).toISOString() });
  if (path.includes('deploying')) {
    await saveApproval(pool, id, { guardian: 'bench-guardian', decision: 'approved', comment: 'LGTM', at: new Date(at).toISOString() });
    const waveOf = (position: number): number => (position === 0 ? 1 : position < targets.length / 2 ? 2 : 3);
    for (const [position, target] of targets.entries()) {
      const wave = waveOf(position);
      const deploymentStatus = status === 'rolled_back' ? 'reverted' : status === 'deploying' && wave === 3 ? 'pending' : 'deployed';
      await saveDeployment(pool, { patchId: id, targetId: target.id, wave, status: deploymentStatus, deployedCommit: 'b'.repeat(40), previousCommit: 'a'.repeat(40), seq: 10 });
      if (deploymentStatus === 'pending') continue;
      for (let round = 0; round < 2; round += 1) {
        const ok = !(status === 'rolled_back' && round === 1);
        await saveHealthRound(pool, {
          patchId: id,
          targetId: target.id,
          wave,
          round,
          samples: [{ ok, checkType: 'http', check: `GET ${target.name}/health`, detail: ok ? '200 OK' : '503 Service Unavailable', latencyMs: 12, status: ok ? 200 : 503, at: new Date(at + round * 30_000).toISOString() }],
        });
      }
    }
  }
  return id;
}

interface Seeded {
  patchIds: string[];
  /** The target most patches name. */
  busiestTarget: string;
}

async function seed(stack: BenchStack, options: ApiBenchOptions): Promise<Seeded> {
  const random = seededRandom(13);
  const fleet: Target[] = [];
  for (let index = 0; index < options.targets; index += 1) {
    fleet.push(
      await createTarget(stack.pool, {
        name: `bench/fleet-${String(index).padStart(5, '0')}`,
        repoUrl: `https://git.example/bench/fleet-${index}.git`,
        branch: 'main',
        healthChecks: [{ type: 'http', url: `https://fleet-${index}.example/health`, expectStatus: 200, timeoutMs: 2_000 }],
        verifyCommand: null,
        createdBy: 'bench',
      }),
    );
  }
  const plans = Array.from({ length: options.patches }, (_, index) => {
    const count = targetCount(random, fleet.length);
    const first = Math.floor(random() * fleet.length);
    return { index, status: pick(random, STATUS_MIX), targets: Array.from({ length: count }, (_unused, k) => fleet[(first + k) % fleet.length] as Target) };
  });
  const patchIds: string[] = [];
  await inBoundedPool(plans, SEED_CONCURRENCY, async (plan) => {
    patchIds.push(await seedPatch(stack, plan.targets, plan.status, plan.index));
  });
  const named = new Map<string, number>();
  for (const plan of plans) for (const target of plan.targets) named.set(target.id, (named.get(target.id) ?? 0) + 1);
  const busiestTarget = [...named].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  await stack.pool.query('ANALYZE');
  return { patchIds, busiestTarget };
}

interface Timings {
  name: string;
  ms: number[];
  bytes: number;
}

/** Each measured request in turn, round after round, so that noise of the machine touches them alike. */
async function timeInTurn(requests: Array<{ name: string; send: () => Promise<number> }>, rounds: number): Promise<Timings[]> {
  const timings = requests.map((entry) => ({ name: entry.name, ms: [] as number[], bytes: 0 }));
  for (let round = 0; round < WARMUP_REQUESTS + rounds; round += 1) {
    for (const [position, entry] of requests.entries()) {
      const started = performance.now();
      const bytes = await entry.send();
      const ms = performance.now() - started;
      const timing = timings[position] as Timings;
      if (round >= WARMUP_REQUESTS) timing.ms.push(ms);
      timing.bytes = bytes;
    }
  }
  return timings;
}

function httpGet(stack: BenchStack, route: string, authorized = true): () => Promise<number> {
  const headers = authorized ? { authorization: stack.api.authorization('viewer') } : undefined;
  return async () => {
    const response = await fetch(`${stack.api.url}${route}`, headers ? { headers } : {});
    const body = await response.arrayBuffer();
    if (!response.ok) throw new Error(`bench: GET ${route} answered ${response.status}`);
    return body.byteLength;
  };
}

interface LoadResult {
  /** Answers per second over the run, from the first scheduled send to the last answer. */
  rate: number;
  requests: number;
  /** Connection errors and requests unanswered within LOAD_TIMEOUT_MS. */
  errors: number;
  statusCodes: Map<number, number>;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Open-loop load: request n is due at n / rate seconds and sent then whether or not earlier ones were answered
 * (over as many keep-alive connections as that takes), and its latency counts from when it was due, so a stalled
 * server or client shows in the figures instead of lowering the rate. autocannon's `overallRate` is not used: it
 * sends each connection's share of a second back to back at the start of the second and then idles.
 */
async function fixedRateLoad(stack: BenchStack, options: { seconds: number; rate: number; path: (n: number) => string }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: LOAD_MAX_CONNECTIONS });
  const headers = { authorization: stack.api.authorization('viewer') };
  const { hostname, port } = new URL(stack.api.url);
  const latencies: number[] = [];
  const statusCodes = new Map<number, number>();
  let errors = 0;
  let lastAnswer = 0;
  const send = (path: string, due: number): Promise<void> =>
    new Promise((resolve) => {
      const request = httpRequest({ agent, hostname, port, path, headers, timeout: LOAD_TIMEOUT_MS }, (response) => {
        response.resume();
        response.on('end', () => {
          lastAnswer = performance.now();
          latencies.push(lastAnswer - due);
          statusCodes.set(response.statusCode ?? 0, (statusCodes.get(response.statusCode ?? 0) ?? 0) + 1);
          resolve();
        });
      });
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', () => {
        errors += 1;
        resolve();
      });
      request.end();
    });
  const total = Math.round(options.rate * options.seconds);
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let n = 0; n < total; n += 1) {
    const due = started + (n * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(send(options.path(n), due));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return {
    rate: latencies.length / ((lastAnswer - started) / 1000),
    requests: total,
    errors,
    statusCodes,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: percentile(latencies, 1),
  };
}

/** The share of the requested rate the answers must keep up with for the load to count as sustained. */
const SUSTAINED_FRACTION = 0.95;

export async function runApiBench(context: BenchContext, options: ApiBenchOptions = DEFAULT_API_BENCH): Promise<string> {
  const stack = await startBenchStack({ log: context.log });
  try {
    const seedStarted = Date.now();
    const { patchIds, busiestTarget } = await seed(stack, options);
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    context.log(`bench: api: seeded ${patchIds.length} patches in ${seedSeconds.toFixed(0)} s`);
    const someId = (): string => patchIds[Math.floor(Math.random() * patchIds.length)] ?? '';

    const secondPage = (await stack.api.call<{ next: string | null }>('GET', '/api/v1/patches', { role: 'viewer' })).next;
    const sequential = await timeInTurn(
      [
        { name: 'GET /healthz', send: httpGet(stack, '/healthz', false) },
        { name: 'GET /api/v1/whoami', send: httpGet(stack, '/api/v1/whoami') },
        { name: 'listPatches through a pool (no HTTP)', send: async () => (await listPatches(stack.pool, { limit: 100 })).items.length },
        { name: 'GET /api/v1/patches', send: httpGet(stack, '/api/v1/patches') },
        { name: 'GET /api/v1/patches?status=deployed', send: httpGet(stack, '/api/v1/patches?status=deployed') },
        { name: 'GET /api/v1/patches?target=<busiest>', send: httpGet(stack, `/api/v1/patches?target=${busiestTarget}`) },
        { name: 'GET /api/v1/patches?cursor=<next of the first page>', send: httpGet(stack, `/api/v1/patches?cursor=${secondPage ?? ''}`) },
        { name: 'GET /api/v1/patches?limit=500', send: httpGet(stack, '/api/v1/patches?limit=500') },
        { name: 'GET /api/v1/patches/:id', send: () => httpGet(stack, `/api/v1/patches/${someId()}`)() },
      ],
      options.sequentialRequests,
    );
    const byName = (name: string): Timings => sequential.find((timing) => timing.name === name) as Timings;
    const healthz = byName('GET /healthz');

    context.log(`bench: api: load at ${options.loadRate}/s for ${options.loadSeconds} s`);
    // Even requests list, odd ones read one patch: the two reads the patch pages make.
    const reads = await fixedRateLoad(stack, { seconds: options.loadSeconds, rate: options.loadRate, path: (n) => (n % 2 === 0 ? '/api/v1/patches' : `/api/v1/patches/${someId()}`) });
    const baselineLoad = await fixedRateLoad(stack, { seconds: options.baselineLoadSeconds, rate: options.loadRate, path: () => '/healthz' });

    const list = byName('GET /api/v1/patches');
    const listP99 = percentile(list.ms, 0.99);
    const loadFailures = reads.errors + [...reads.statusCodes].filter(([code]) => code < 200 || code > 299).reduce((sum, [, count]) => sum + count, 0);
    // Sustained: answers kept up with the rate (a server that falls behind answers every request, only later).
    const sustained = reads.rate >= options.loadRate * SUSTAINED_FRACTION;
    const loadVerdict = loadFailures > 0 ? `**missed**: ${loadFailures} errors` : sustained ? 'met' : `**missed**: ${reads.rate.toFixed(1)} answers/s, no errors`;
    return [
      '## API',
      '',
      `Measured by \`npm run bench -- --only=api\` (bench/api.ts) on ${context.machine}: the API process of the bench stack with ` +
        `${patchIds.length} patches over ${options.targets} targets in its read model (seeded in ${seedSeconds.toFixed(0)} s). ` +
        `Goals: GET /api/v1/patches p99 < ${LIST_P99_GOAL_MS} ms (${listP99 < LIST_P99_GOAL_MS ? 'met' : '**missed**'}: ${listP99.toFixed(1)} ms); ` +
        `reads at ${options.loadRate} requests/s for ${options.loadSeconds} s with no errors (${loadVerdict}).`,
      '',
      `One request at a time over one keep-alive connection, ${options.sequentialRequests} each after ${WARMUP_REQUESTS} to warm up, in turn:`,
      '',
      '| request | p50 | p99 | answer |',
      '| --- | --- | --- | --- |',
      ...sequential.map(
        (timing) =>
          `| ${timing.name} | ${percentile(timing.ms, 0.5).toFixed(2)} ms | ${percentile(timing.ms, 0.99).toFixed(2)} ms | ${timing.name.startsWith('listPatches') ? `${timing.bytes} rows` : `${(timing.bytes / 1024).toFixed(1)} KiB`} |`,
      ),
      '',
      comparedTable([
        { measure: 'GET /api/v1/patches p50', value: percentile(list.ms, 0.5), baseline: percentile(healthz.ms, 0.5), unit: 'ms', baselineName: 'GET /healthz' },
        { measure: 'GET /api/v1/patches p99', value: listP99, baseline: percentile(healthz.ms, 0.99), unit: 'ms', baselineName: 'GET /healthz' },
      ]),
      '',
      `Load: requests due at a fixed overall rate, each sent when due over up to ${LOAD_MAX_CONNECTIONS} keep-alive connections, its latency counted from when it was due; ` +
        'reads alternate GET /api/v1/patches and GET /api/v1/patches/:id (a random seeded patch).',
      '',
      '| load | achieved rate | requests | errors | status codes | p50 | p99 | max |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...[
        [`reads, ${options.loadRate}/s × ${options.loadSeconds} s`, reads] as const,
        [`baseline: GET /healthz, ${options.loadRate}/s × ${options.baselineLoadSeconds} s`, baselineLoad] as const,
      ].map(
        ([name, result]) =>
          `| ${name} | ${result.rate.toFixed(1)}/s | ${result.requests} | ${result.errors} | ${[...result.statusCodes].map(([code, count]) => `${code}: ${count}`).join(', ')} | ` +
          `${result.p50.toFixed(1)} ms | ${result.p99.toFixed(1)} ms | ${result.max.toFixed(1)} ms |`,
      ),
      '',
    ].join('\n');
  } finally {
    await stack.stop();
  }
}
