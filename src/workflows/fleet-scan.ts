/**
 * A fleet scan: the scan's targets are analyzed in batches, each batch a child workflow (visible in the Web UI as
 * `fleet scan <id>: targets 201-400`) that reads its slice of the scan's target ids from the read model, so no
 * history carries them all. A few batches run at once; each reports its counts to the scan as it goes (a signal)
 * and in all when it ends (its result), so the progress query is right between batches. When the scan's own
 * history grows long it lets its running batches finish and continues as new, carrying only its counts.
 */
import {
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { AnalysisActivities } from '../activities/analysis';
import { ANALYZING } from './analysis';
import {
  batchBounds,
  batchCount,
  type BatchCounts,
  FLEET_SCAN_BATCH_SIZE,
  type FleetScanProgress,
  scanProgress,
  shareConcurrency,
} from './fleet-scan-batches';

export type { FleetScanProgress } from './fleet-scan-batches';

const { analyzeTarget } = proxyActivities<AnalysisActivities>(ANALYZING);
const bookkeeping = proxyActivities<AnalysisActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['FleetScanNotFoundError'] },
});

/** Continue as new well before Temporal's limits (50 Ki events), even when the server does not suggest it. */
const HISTORY_EVENT_BUDGET = 10_000;
/** Reports of its counts a batch sends the scan while it runs: progress moves, the scan's history stays short. */
const PROGRESS_REPORTS_PER_BATCH = 8;

export interface FleetScanInput {
  scanId: string;
  requestedBy: string;
  /** Targets in the scan; their ids are the read model's fleet_scans.target_ids, in order. */
  total: number;
  /** Targets analyzed at the same time, across the batches. */
  concurrency: number;
  /** Targets per batch (FLEET_SCAN_BATCH_SIZE when absent). */
  batchSize?: number;
  /** History events after which the run continues as new (HISTORY_EVENT_BUDGET when absent). */
  historyEventBudget?: number;
  /** What the runs before this one (continue-as-new) finished. */
  finished?: { batches: number; succeeded: number; failed: number };
}

/** The input of scans started before batching: every target id and one analysis id per target. */
export interface LegacyFleetScanInput {
  scanId: string;
  targetIds: string[];
  requestedBy: string;
  concurrency: number;
  analysisIds: string[];
}

export interface FleetScanBatchInput {
  scanId: string;
  requestedBy: string;
  batchIndex: number;
  /** The batch's first target: its 0-based position in the scan's target ids. */
  offset: number;
  count: number;
  /** Targets of this batch analyzed at the same time. */
  concurrency: number;
}

export const fleetScanProgressQuery = defineQuery<FleetScanProgress>('progress');
/** A running batch's counts so far, sent to the scan (the batch's parent). */
export const batchProgressSignal = defineSignal<[BatchCounts]>('batch-progress');

export async function fleetScanWorkflow(input: FleetScanInput | LegacyFleetScanInput): Promise<FleetScanProgress> {
  // The version is in the input, which the history holds: runs started before batching carry every target id and
  // finish as they started, and so does such a run that no worker had picked up yet (a marker could not tell).
  if ('targetIds' in input) return legacyFleetScan(input);
  return batchedFleetScan(input);
}

async function batchedFleetScan(input: FleetScanInput): Promise<FleetScanProgress> {
  const batchSize = input.batchSize ?? FLEET_SCAN_BATCH_SIZE;
  const budget = input.historyEventBudget ?? HISTORY_EVENT_BUDGET;
  const batchesTotal = batchCount(input.total, batchSize);
  const finished = { ...(input.finished ?? { batches: 0, succeeded: 0, failed: 0 }) };
  const running = new Map<number, BatchCounts>();
  const progress = (): FleetScanProgress => scanProgress(input.total, batchesTotal, finished, running.values());
  setHandler(fleetScanProgressQuery, progress, { description: 'How many targets and batches are done.' });
  setHandler(batchProgressSignal, (report) => {
    const batch = running.get(report.batchIndex);
    // Reports are cumulative; one that arrives late (after a newer one, or after its batch ended) changes nothing.
    if (batch && report.succeeded + report.failed > batch.succeeded + batch.failed) running.set(report.batchIndex, report);
  });

  const { workflowId } = workflowInfo();
  const { batchesInFlight, perBatch } = shareConcurrency(input.concurrency, batchesTotal - finished.batches);
  const firstBatch = finished.batches;
  let nextBatch = firstBatch;
  let handOver = false;
  const runBatches = async (): Promise<void> => {
    while (nextBatch < batchesTotal && !handOver) {
      const info = workflowInfo();
      // Every run starts at least one batch, so even a budget smaller than a run's first events makes progress.
      if (nextBatch > firstBatch && (info.continueAsNewSuggested || info.historyLength >= budget)) {
        handOver = true;
        return;
      }
      const batchIndex = nextBatch++;
      const { offset, count } = batchBounds(input.total, batchSize, batchIndex);
      running.set(batchIndex, { batchIndex, succeeded: 0, failed: 0 });
      try {
        const result = await executeChild(fleetScanBatchWorkflow, {
          workflowId: `${workflowId}-batch-${batchIndex + 1}`,
          args: [{ scanId: input.scanId, requestedBy: input.requestedBy, batchIndex, offset, count, concurrency: perBatch }],
          staticSummary: `fleet scan ${input.scanId}: targets ${offset + 1}-${offset + count}`,
        });
        finished.succeeded += result.succeeded;
        finished.failed += result.failed;
      } catch (error) {
        if (isCancellation(error)) throw error;
        // The batch failed as a whole (its targets could not be read): what it did not report analyzed counts as failed.
        const reported = running.get(batchIndex)?.succeeded ?? 0;
        finished.succeeded += reported;
        finished.failed += count - reported;
      } finally {
        running.delete(batchIndex);
      }
      finished.batches += 1;
    }
  };
  await Promise.all(Array.from({ length: batchesInFlight }, runBatches));
  // The running batches have ended (a child would not outlive this run), so the counts are whole batches.
  if (nextBatch < batchesTotal) return continueAsNew<typeof fleetScanWorkflow>({ ...input, finished });
  await bookkeeping.completeFleetScan({ scanId: input.scanId, failed: finished.failed });
  return progress();
}

/** One batch of a fleet scan: its slice of the scan's targets, `concurrency` at a time; a failed analysis counts, and the batch goes on. */
export async function fleetScanBatchWorkflow(input: FleetScanBatchInput): Promise<BatchCounts> {
  const counts: BatchCounts = { batchIndex: input.batchIndex, succeeded: 0, failed: 0 };
  const scan = workflowInfo().parent;
  const targetIds = await bookkeeping.fleetScanTargets({ scanId: input.scanId, offset: input.offset, count: input.count });
  const reportEvery = Math.max(1, Math.ceil(targetIds.length / PROGRESS_REPORTS_PER_BATCH));
  let next = 0;
  let unreported = 0;
  const analyzeNext = async (): Promise<void> => {
    while (next < targetIds.length) {
      const targetId = targetIds[next++] ?? '';
      try {
        await analyzeTarget({ analysisId: uuid4(), targetId, requestedBy: input.requestedBy, fleetScanId: input.scanId });
        counts.succeeded += 1;
      } catch (error) {
        if (isCancellation(error)) throw error;
        // The activity stored the failure on the analysis row; the batch goes on with the other targets.
        counts.failed += 1;
      }
      unreported += 1;
      // The last count travels as the batch's result.
      if (scan && unreported >= reportEvery && next < targetIds.length) {
        unreported = 0;
        await getExternalWorkflowHandle(scan.workflowId).signal(batchProgressSignal, { ...counts });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, targetIds.length)) }, analyzeNext));
  return counts;
}

/** Scans started before batching, one activity per target in the scan's own history; kept while such runs exist. */
async function legacyFleetScan(input: LegacyFleetScanInput): Promise<FleetScanProgress> {
  const progress = { total: input.targetIds.length, succeeded: 0, failed: 0, running: 0 };
  setHandler(fleetScanProgressQuery, () => ({ ...progress, batchesDone: 0, batchesTotal: 0 }), { description: 'How many targets are done.' });
  let next = 0;
  const runOne = async (): Promise<void> => {
    while (next < input.targetIds.length) {
      const index = next++;
      progress.running += 1;
      try {
        await analyzeTarget({
          analysisId: input.analysisIds[index] ?? '',
          targetId: input.targetIds[index] ?? '',
          requestedBy: input.requestedBy,
          fleetScanId: input.scanId,
        });
        progress.succeeded += 1;
      } catch {
        // The activity stored the failure on the analysis row; the scan goes on with the other targets.
        progress.failed += 1;
      } finally {
        progress.running -= 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, input.targetIds.length)) }, runOne));
  await bookkeeping.completeFleetScan({ scanId: input.scanId, failed: progress.failed });
  return { ...progress, batchesDone: 0, batchesTotal: 0 };
}
