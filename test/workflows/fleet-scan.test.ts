/**
 * Batched fleet scans on a real Temporal dev server with the real worker and activities, PostgreSQL and generated
 * bare git repositories as targets, with small batches so a few dozen targets make several batches: every target
 * analyzed exactly once, a failing target counted without stopping the scan, the scan's history free of per-target
 * events, the progress query consistent while batches run and across continue-as-new, the read model's scan row
 * completed. Through the API: a scan of the targets a selector picks, and the refusals at the door.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Express } from 'express';
import request from 'supertest';
import type { Target } from '../../src/domain/types';
import { createFleetScan, getFleetScan } from '../../src/store/analyses';
import { createTarget } from '../../src/store/targets';
import { type FleetScanInput, type FleetScanProgress, fleetScanProgressQuery, fleetScanWorkflow } from '../../src/workflows/fleet-scan';
import { apiOverHarness } from '../support/harness-api';
import { createLifecycleHarness, type LifecycleHarness, until } from '../support/lifecycle';

jest.setTimeout(300_000);

const { EventType } = temporal.api.enums.v1;

describe('batched fleet scans', () => {
  let h: LifecycleHarness;
  let app: Express;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    h = await createLifecycleHarness();
    const api = await apiOverHarness(h);
    app = api.app;
    [operator, viewer] = await Promise.all([api.token('olga', ['operator']), api.token('vic', ['viewer'])]);
  }, 120_000);

  afterAll(async () => {
    await h.close();
  });

  /** A target whose repository does not exist: its analysis fails (after the activity's retries). */
  async function brokenTarget(): Promise<Target> {
    return createTarget(h.db.pool, { name: `broken/repo-${randomUUID().slice(0, 8)}`, repoUrl: path.join(h.scratch, `missing-${randomUUID()}`), branch: 'main', healthChecks: [], verifyCommand: null, createdBy: 'test' });
  }

  /** Records the scan in the read model as the API does and starts it with `options` (small batches, a small budget). */
  async function startScan(targets: Target[], options: Partial<FleetScanInput>): Promise<WorkflowHandleWithFirstExecutionRunId<typeof fleetScanWorkflow>> {
    const scanId = randomUUID();
    const workflowId = `fleet-scan-${scanId}`;
    await createFleetScan(h.db.pool, { id: scanId, workflowId, targetIds: targets.map((target) => target.id), requestedBy: 'test' });
    return h.client.workflow.start(fleetScanWorkflow, { taskQueue: h.taskQueue, workflowId, args: [{ scanId, requestedBy: 'test', total: targets.length, concurrency: 4, ...options }] });
  }

  /** Queries the scan's progress until it completes; every answer, in order. */
  async function watchProgress(handle: WorkflowHandle<typeof fleetScanWorkflow>): Promise<FleetScanProgress[]> {
    const seen: FleetScanProgress[] = [];
    const result = handle.result();
    let done = false;
    void result.finally(() => (done = true));
    while (!done) {
      const progress = await handle.query(fleetScanProgressQuery).catch(() => undefined);
      if (progress) seen.push(progress);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    seen.push(await result);
    return seen;
  }

  function expectConsistent(snapshots: readonly FleetScanProgress[], total: number, batchesTotal: number): void {
    let previous: FleetScanProgress | undefined;
    for (const progress of snapshots) {
      expect(progress).toMatchObject({ total, batchesTotal });
      expect(progress.succeeded + progress.failed + progress.running).toBe(total);
      // Nothing counted is ever taken back, whichever run (after continue-as-new) answers.
      if (previous) {
        expect(progress.succeeded).toBeGreaterThanOrEqual(previous.succeeded);
        expect(progress.failed).toBeGreaterThanOrEqual(previous.failed);
        expect(progress.batchesDone).toBeGreaterThanOrEqual(previous.batchesDone);
      }
      previous = progress;
    }
  }

  /** How many events of each type a history has. */
  function eventCounts(history: temporal.api.history.v1.IHistory): Map<temporal.api.enums.v1.EventType, number> {
    const counts = new Map<temporal.api.enums.v1.EventType, number>();
    for (const { eventType } of history.events ?? []) if (eventType) counts.set(eventType, (counts.get(eventType) ?? 0) + 1);
    return counts;
  }

  test('40 targets in batches of 6: each analyzed once, a broken one counted as failed, short histories, progress between batches', async () => {
    const targets = [...(await h.createTargets(38, { monitored: false })), await brokenTarget(), await brokenTarget()];
    const handle = await startScan(targets, { batchSize: 6 });
    const snapshots = await h.runWorker(watchProgress(handle));

    const final = snapshots.at(-1);
    expect(final).toEqual({ total: 40, succeeded: 38, failed: 2, running: 0, batchesDone: 7, batchesTotal: 7 });
    expectConsistent(snapshots, 40, 7);
    // Batches report as they go: some answer counted targets of a batch that had not ended yet.
    expect(snapshots.some((progress) => progress.batchesDone < 7 && progress.succeeded + progress.failed > progress.batchesDone * 6)).toBe(true);

    // Every target analyzed exactly once, under the scan; the broken ones failed.
    const scanId = handle.workflowId.replace('fleet-scan-', '');
    const scan = await getFleetScan(h.db.pool, scanId);
    expect(scan?.status).toBe('failed');
    expect(scan?.completedAt).not.toBeNull();
    expect(scan?.analyses.map((analysis) => analysis.targetId).sort()).toEqual(targets.map((target) => target.id).sort());
    expect(scan?.analyses.filter((analysis) => analysis.status === 'failed').map((analysis) => analysis.targetId).sort()).toEqual(targets.slice(38).map((target) => target.id).sort());

    // The scan's own history has no event per target: one child per batch and one bookkeeping activity.
    const parent = eventCounts(await handle.fetchHistory());
    const parentLength = [...parent.values()].reduce((sum, count) => sum + count, 0);
    expect(parent.get(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)).toBe(7);
    expect(parent.get(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(1);
    const children = await Promise.all(
      Array.from({ length: 7 }, async (_, index) => {
        const child = h.client.workflow.getHandle(`${handle.workflowId}-batch-${index + 1}`);
        const counts = eventCounts(await child.fetchHistory());
        return { summary: await (await child.describe()).staticSummary(), activities: counts.get(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), length: [...counts.values()].reduce((sum, count) => sum + count, 0) };
      }),
    );
    expect(children.map((child) => child.summary)).toEqual(['1-6', '7-12', '13-18', '19-24', '25-30', '31-36', '37-40'].map((range) => `fleet scan ${scanId}: targets ${range}`));
    // A batch holds its slice's activities (the two broken targets' retries are within their activity) and its slice read.
    expect(children.map((child) => child.activities)).toEqual([7, 7, 7, 7, 7, 7, 5]);
    console.log(`fleet scan of 40 targets in batches of 6: scan history ${parentLength} events, batches ${children.map((child) => child.length).join(', ')}`);
    // About a dozen events per batch (its start and end, reports, workflow tasks) and a few per target in a batch.
    expect(parentLength).toBeLessThan(20 + 7 * 30);
    for (const child of children) expect(child.length).toBeLessThan(20 + 6 * 12);
  });

  /** The scan's runs, first to last, with what each was handed by the one before (continue-as-new). */
  async function runsOf(workflowId: string, firstRunId: string): Promise<Array<{ runId: string; carried: FleetScanInput['finished'] }>> {
    const runs: Array<{ runId: string; carried: FleetScanInput['finished'] }> = [];
    for (let runId: string | undefined = firstRunId; runId; ) {
      const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
      runs.push({ runId, carried: (JSON.parse(Buffer.from(input ?? new Uint8Array()).toString('utf8')) as FleetScanInput).finished });
      const last = history.events?.at(-1);
      runId = last?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW ? (last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined) : undefined;
    }
    return runs;
  }

  test('a tiny history budget makes the scan continue as new; progress carries over and every target is analyzed once', async () => {
    const targets = await h.createTargets(25, { monitored: false });
    const handle = await startScan(targets, { batchSize: 5, historyEventBudget: 10 });
    // Queries need a worker, also those of runs that ended.
    const { snapshots, runs, secondRunProgress } = await h.runWorker(
      (async () => {
        const watched = await watchProgress(handle);
        const chain = await runsOf(handle.workflowId, handle.firstExecutionRunId);
        return { snapshots: watched, runs: chain, secondRunProgress: await h.client.workflow.getHandle(handle.workflowId, chain[1]?.runId).query(fleetScanProgressQuery) };
      })(),
    );
    expect(snapshots.at(-1)).toEqual({ total: 25, succeeded: 25, failed: 0, running: 0, batchesDone: 5, batchesTotal: 5 });
    expectConsistent(snapshots, 25, 5);

    // Each run continued as new after at least one batch, handing over what it and the runs before it finished.
    expect(runs.length).toBeGreaterThan(1);
    expect(runs[0]?.carried).toBeUndefined();
    const carried = runs.slice(1).map((run) => run.carried?.batches ?? 0);
    expect(carried[0]).toBeGreaterThanOrEqual(1);
    carried.slice(1).forEach((batches, index) => expect(batches).toBeGreaterThan(carried[index] ?? 0));
    for (const run of runs.slice(1)) expect(run.carried).toEqual({ batches: run.carried?.batches, succeeded: (run.carried?.batches ?? 0) * 5, failed: 0 });
    // A run that continued as new answers, after the fact, with what it and the runs before it finished.
    expect(secondRunProgress).toEqual({ total: 25, succeeded: (runs[2]?.carried?.batches ?? 5) * 5, failed: 0, running: 25 - (runs[2]?.carried?.batches ?? 5) * 5, batchesDone: runs[2]?.carried?.batches ?? 5, batchesTotal: 5 });

    const scan = await getFleetScan(h.db.pool, handle.workflowId.replace('fleet-scan-', ''));
    expect(scan?.status).toBe('completed');
    expect(scan?.analyses.map((analysis) => analysis.targetId).sort()).toEqual(targets.map((target) => target.id).sort());
  });

  describe('through the API', () => {
    const post = (body: object) => request(app).post('/api/v1/analyses').set('Authorization', `Bearer ${operator}`).send(body);

    test('a selector scans the targets it picks', async () => {
      const team = `scan-${randomUUID().slice(0, 8)}`;
      const picked = await Promise.all([1, 2, 3].map(async () => (await h.createTargets(1, { monitored: false }))[0] as Target));
      for (const target of picked) await h.db.pool.query('UPDATE targets SET labels = $2 WHERE id = $1', [target.id, JSON.stringify({ team })]);
      await h.createTargets(1, { monitored: false });

      const started = await post({ targets: { labels: { team } }, concurrency: 2 });
      expect(started.status).toBe(202);
      expect(started.body.total).toBe(3);
      const scan = await h.runWorker(
        until('the scan to complete', async () => {
          const body = (await request(app).get(`/api/v1/analyses/${String(started.body.id)}`).set('Authorization', `Bearer ${viewer}`)).body as { status: string; progress: FleetScanProgress; analyses: Array<{ targetId: string }> };
          return body.status === 'completed' ? body : undefined;
        }),
      );
      expect(scan.progress).toMatchObject({ total: 3, succeeded: 3, failed: 0, running: 0 });
      expect(scan.analyses.map((analysis) => analysis.targetId).sort()).toEqual(picked.map((target) => target.id).sort());
    });

    test('refusals: a selector that picks nothing, 10,000 unknown ids (within the body limit), more than 10,000 ids', async () => {
      const none = await post({ targets: { nameGlob: 'nothing-here/*' } });
      expect(none.status).toBe(422);
      expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(none.body.detail).toBe('targets selects no target: no registered target matches it.');

      const unknown = Array.from({ length: 10_000 }, () => randomUUID());
      const missing = await post({ targetIds: unknown });
      expect(missing.status).toBe(422);
      expect(missing.body.detail).toBe(`No target ${unknown.slice(0, 5).join(', ')} and 9995 more.`);

      const tooMany = await post({ targetIds: [...unknown, randomUUID()] });
      expect(tooMany.status).toBe(422);
      expect(tooMany.body.detail).toBe('targetIds must have at most 10000 items.');

      const neither = await post({ targets: 'some' });
      expect(neither.status).toBe(422);
      expect(neither.body.detail).toMatch(/^The request body must hold one of targetId/);
    });
  });
});
