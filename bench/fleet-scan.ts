/**
 * Fleet scan throughput: generated local targets scanned through the real stack (POST /api/v1/analyses with a
 * selector, batches as child workflows), against a baseline of the same run: analysis alone, the same checkout
 * and analyzer over the same repositories in this process, as many at a time as the scan. Also the history length
 * of the scan's workflow and of its largest batch, and what one workflow for the whole scan would have held.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { allRules } from '../src/analysis/rules';
import { repositoryViewAt } from '../src/analysis/checkout-view';
import { analyzeRepository } from '../src/analysis/engine';
import { checkout, disposeCheckout } from '../src/git';
import { inBoundedPool } from '../src/workflows/bounded-pool';
import type { FleetScanProgress, fleetScanWorkflow } from '../src/workflows/fleet-scan';
import { FLEET_SCAN_BATCH_SIZE } from '../src/workflows/fleet-scan-batches';
import type { HistoryEvent } from './lifecycle-shape';
import { type ComparedFigure, comparedTable } from './report';
import type { BenchContext } from './run';
import type { BenchStack, BenchTarget } from './stack';
import { startBenchStack } from './stack';

const PREFIX = 'scan';
/** The API's default: targets analyzed at the same time, by the scan and by the baseline. */
const CONCURRENCY = 4;
/** The size issue #13 asks a scan to reach without nearing Temporal's history limits. */
const FLEET_SIZE_GOAL = 10_000;

interface ScanRun {
  wallMs: number;
  progress: FleetScanProgress;
  /** Events of each run of the scan's workflow (more than one after continue-as-new). */
  scanRuns: number[];
  /** Events of each batch child, in order. */
  batches: Array<{ events: number; targets: number }>;
}

/** Scans the bench's targets through the API and waits for the scan's workflow to end. */
async function scanThroughStack(stack: BenchStack): Promise<ScanRun> {
  const started = Date.now();
  const answer = await stack.api.call<{ id: string; workflowId: string; total: number }>('POST', '/api/v1/analyses', {
    role: 'operator',
    body: { targets: { nameGlob: `bench/${PREFIX}-*` }, concurrency: CONCURRENCY },
  });
  const handle = stack.client.workflow.getHandle<typeof fleetScanWorkflow>(answer.workflowId);
  const progress = await handle.result();
  const wallMs = Date.now() - started;
  const scan = await stack.api.call<{ status: string }>('GET', `/api/v1/analyses/${answer.id}`);
  if (scan.status !== 'completed') throw new Error(`bench: the scan ended ${scan.status}: ${JSON.stringify(progress)}`);

  // From the last run back to the first: each run's start names the run it continues.
  const scanRuns: number[] = [];
  for (let runId: string | undefined = (await handle.describe()).runId; runId; ) {
    const events: HistoryEvent[] = (await stack.client.workflow.getHandle(answer.workflowId, runId).fetchHistory()).events ?? [];
    scanRuns.unshift(events.length);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  const batches = await Promise.all(
    Array.from({ length: progress.batchesTotal }, async (_, index) => {
      const events = (await stack.client.workflow.getHandle(`${answer.workflowId}-batch-${index + 1}`).fetchHistory()).events ?? [];
      const targets = events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'analyzeTarget').length;
      return { events: events.length, targets };
    }),
  );
  return { wallMs, progress, scanRuns, batches };
}

/** The activity's work without Temporal and the read model: clone, read the CI files, analyze, remove the clone. */
async function analysisAlone(targets: readonly BenchTarget[], workRoot: string): Promise<number> {
  const started = Date.now();
  await inBoundedPool(targets, CONCURRENCY, async (target) => {
    const clone = await checkout(target.repoPath, 'main', workRoot, { repoUrlPolicy: { allowLocal: true } });
    try {
      const { view } = await repositoryViewAt(clone.dir, undefined);
      analyzeRepository(view, { rules: allRules });
    } finally {
      await disposeCheckout(clone.dir);
    }
  });
  return Date.now() - started;
}

export async function runFleetScanBench(context: BenchContext): Promise<string> {
  const targetCount = context.full ? 1_000 : 100;
  const stack = await startBenchStack({ log: context.log });
  try {
    context.log(`bench: fleet-scan: creating ${targetCount} targets`);
    const targets = await stack.createTargets(targetCount, { monitored: false, prefix: PREFIX });
    context.log('bench: fleet-scan: scanning through the stack');
    const scan = await scanThroughStack(stack);
    if (scan.progress.succeeded !== targetCount) throw new Error(`bench: the scan analyzed ${scan.progress.succeeded} of ${targetCount} targets: ${JSON.stringify(scan.progress)}`);
    context.log('bench: fleet-scan: analysis alone');
    const aloneMs = await analysisAlone(targets, mkdtempSync(path.join(stack.dir, 'alone-')));

    const perMinute = (ms: number): number => (targetCount / ms) * 60_000;
    const figures: ComparedFigure[] = [
      { measure: 'targets per minute', value: perMinute(scan.wallMs), baseline: perMinute(aloneMs), unit: '/min', baselineName: 'analysis alone' },
      { measure: `wall time of ${targetCount} targets`, value: scan.wallMs / 1000, baseline: aloneMs / 1000, unit: 's', baselineName: 'analysis alone' },
    ];
    const largest = scan.batches.reduce((most, batch) => (batch.events > most.events ? batch : most), { events: 0, targets: 0 });
    const scanEvents = Math.max(...scan.scanRuns);
    const eventsPerTarget = largest.targets > 0 ? largest.events / largest.targets : 0;
    const eventsPerBatch = scan.batches.length > 0 ? scanEvents / scan.batches.length : 0;
    const batchesAtGoal = Math.ceil(FLEET_SIZE_GOAL / FLEET_SCAN_BATCH_SIZE);
    return [
      '## Fleet scan',
      '',
      `Measured by \`npm run bench\` (bench/fleet-scan.ts${context.full ? ', --full' : ''}) on ${context.machine}: the whole stack on this machine (Temporal dev server, embedded PostgreSQL, worker and API processes).`,
      `${targetCount} generated local targets (bare repositories with one two-job CI workflow), scanned by one POST /api/v1/analyses with a name-glob selector, ${CONCURRENCY} at a time (the default), in ${scan.batches.length} batch(es); wall time from the request to the scan's workflow ending. ` +
        `Analysis alone: the same clone, CI-file read and analyzer over the same repositories in one process, ${CONCURRENCY} at a time, with no Temporal and no read model.`,
      '',
      comparedTable(figures),
      '',
      'History length per workflow (Temporal warns at 10,240 events and stops a run at 51,200):',
      '',
      `| workflow | events | at ${FLEET_SIZE_GOAL.toLocaleString('en-US')} targets |`,
      '| --- | --- | --- |',
      `| the scan (\`fleet-scan-<id>\`${scan.scanRuns.length > 1 ? `, largest of ${scan.scanRuns.length} runs` : ''}) | ${scanEvents} (${eventsPerBatch.toFixed(1)} per batch, its fixed events included) | at most about ${Math.round(eventsPerBatch * batchesAtGoal)} in ${batchesAtGoal} batches of ${FLEET_SCAN_BATCH_SIZE} (a run continues as new past 10,000 events) |`,
      `| its largest batch (${largest.targets} targets) | ${largest.events} (${eventsPerTarget.toFixed(1)} per target) | about ${Math.round(eventsPerTarget * FLEET_SCAN_BATCH_SIZE)} per batch of ${FLEET_SCAN_BATCH_SIZE}: a batch does not grow with the fleet |`,
      `| one workflow for the whole scan (before batching) | about ${Math.round(eventsPerTarget * targetCount)} (estimated from the batch's per-target events) | about ${Math.round(eventsPerTarget * FLEET_SIZE_GOAL)} |`,
      '',
    ].join('\n');
  } finally {
    await stack.stop();
  }
}
