/**
 * A worker whose workflow cache holds fewer lifecycles than are waiting for approval: the runs it evicted replay
 * their history when their approval arrives and go on to deploy, as the cached ones do.
 */
import { approveUpdate } from '../../src/workflows/patch-lifecycle';
import { createLifecycleHarness, type LifecycleHarness, waitForStatus } from '../support/lifecycle';

jest.setTimeout(300_000);

const CACHED_WORKFLOWS = 2;
const WAITING_PATCHES = 6;

describe('a worker with a workflow cache smaller than the patches waiting', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await createLifecycleHarness({ env: { WORKER_MAX_CACHED_WORKFLOWS: String(CACHED_WORKFLOWS), WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: String(CACHED_WORKFLOWS) } });
  }, 120_000);
  afterAll(async () => {
    await h.close();
  });

  test('every waiting patch is deployed after its approval, evicted or not', async () => {
    // One target each: the same diff twice on one target would conflict at its second deploy.
    const targets = await h.createTargets(WAITING_PATCHES);
    const handles = await Promise.all(
      targets.map(async (target) =>
        h.start(await h.spec([target], { rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 1 } })),
      ),
    );
    const { cachedWhileWaiting, results } = await h.runWorker(async (worker) => {
      for (const handle of handles) await waitForStatus(handle, 'awaiting_approval');
      const cachedWhileWaiting = worker.getStatus().numCachedWorkflows;
      // Oldest first: the runs least recently in the cache, so most of these approvals find their run evicted.
      for (const handle of handles) await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
      return { cachedWhileWaiting, results: await Promise.all(handles.map((handle) => handle.result())) };
    });
    // At least the run queried last is cached; the other waiting ones were evicted to stay within the bound.
    expect(cachedWhileWaiting).toBeGreaterThan(0);
    expect(cachedWhileWaiting).toBeLessThanOrEqual(CACHED_WORKFLOWS);
    expect(results.map((result) => result.status)).toEqual(Array.from({ length: WAITING_PATCHES }, () => 'deployed'));
    for (const [index, target] of targets.entries()) expect(h.commitsWithTrailer(target, 'Patch-Id', results[index]?.patchId ?? '')).toHaveLength(1);
  });
});
