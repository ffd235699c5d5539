/**
 * The arithmetic of a batched fleet scan, pure so the workflow stays short: which targets a batch covers, how the
 * scan's concurrency is shared between the batches in flight, and the progress the scan reports.
 */

/**
 * Targets per batch. One analysis costs a batch about six history events (its activity's three, one workflow
 * task's three) plus a share of the progress reports, so 200 keep a batch near 1,500 events, far below
 * Temporal's 10,240-event warning, while 10,000 targets need only 50 batches in the scan's own history.
 */
export const FLEET_SCAN_BATCH_SIZE = 200;

/** Batches running at once: the next one starts while the other finishes its slowest targets, so workers keep busy. */
export const BATCHES_IN_FLIGHT = 2;

export interface FleetScanProgress {
  total: number;
  succeeded: number;
  failed: number;
  /** Targets not analyzed yet: being analyzed or waiting for their batch. */
  running: number;
  batchesDone: number;
  batchesTotal: number;
}

/** What a batch has analyzed so far, or in all once it is done. */
export interface BatchCounts {
  batchIndex: number;
  succeeded: number;
  failed: number;
}

export function batchCount(total: number, batchSize: number): number {
  return Math.ceil(total / batchSize);
}

/** The batch's first target (0-based position in the scan's target ids) and how many it has. */
export function batchBounds(total: number, batchSize: number, batchIndex: number): { offset: number; count: number } {
  const offset = batchIndex * batchSize;
  return { offset, count: Math.max(0, Math.min(batchSize, total - offset)) };
}

/** How many batches run at once and how many targets each analyzes at once, together at most `concurrency`. */
export function shareConcurrency(concurrency: number, batchesLeft: number): { batchesInFlight: number; perBatch: number } {
  const batchesInFlight = Math.max(1, Math.min(BATCHES_IN_FLIGHT, concurrency, batchesLeft));
  return { batchesInFlight, perBatch: Math.max(1, Math.floor(concurrency / batchesInFlight)) };
}

/** The scan's progress: what finished batches counted plus what the running ones reported so far. */
export function scanProgress(
  total: number,
  batchesTotal: number,
  finished: { batches: number; succeeded: number; failed: number },
  running: Iterable<BatchCounts>,
): FleetScanProgress {
  let { succeeded, failed } = finished;
  for (const batch of running) {
    succeeded += batch.succeeded;
    failed += batch.failed;
  }
  return { total, succeeded, failed, running: total - succeeded - failed, batchesDone: finished.batches, batchesTotal };
}
