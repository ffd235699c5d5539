/**
 * A worker process killed (SIGKILL) in the middle of a rollout: a new worker process picks the run up, the
 * interrupted deploy is retried, and every target ends with exactly one patch commit.
 */
import type { ChildProcess } from 'node:child_process';
import { approveUpdate } from '../../src/workflows/patch-lifecycle';
import { createLifecycleHarness, type LifecycleHarness } from '../support/lifecycle';
import { assertWorkerBuilt, spawnWorkerProcess } from '../support/worker-process';

jest.setTimeout(240_000);

describe('worker crash during deployment', () => {
  let h: LifecycleHarness;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    assertWorkerBuilt();
    h = await createLifecycleHarness();
  }, 120_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h.close();
  });

  function startWorkerProcess(): ChildProcess {
    const child = spawnWorkerProcess(h);
    children.push(child);
    return child;
  }

  async function deploymentRows(patchId: string): Promise<Array<{ wave: number; status: string }>> {
    const { rows } = await h.db.pool.query<{ wave: number; status: string }>('SELECT wave, status FROM deployments WHERE patch_id = $1', [patchId]);
    return rows;
  }

  test('the run completes after the worker is killed mid-rollout, each target committed exactly once', async () => {
    const targets = await h.createTargets(4);
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 25 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 1 },
    });
    const handle = await h.start(spec);
    const first = startWorkerProcess();
    for (let i = 0; i < 600; i += 1) {
      const { rows } = await h.db.pool.query<{ status: string }>('SELECT status FROM patches WHERE id = $1', [spec.id]);
      if (rows[0]?.status === 'awaiting_approval') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
    // Kill the worker as soon as the second wave is being deployed.
    for (let i = 0; i < 1200; i += 1) {
      if ((await deploymentRows(spec.id)).some((row) => row.wave === 2)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect((await deploymentRows(spec.id)).some((row) => row.wave === 2 && row.status !== 'deployed')).toBe(true);

    startWorkerProcess();
    const result = await handle.result();
    expect(result.status).toBe('deployed');
    for (const target of targets) expect(h.commitsWithTrailer(target, 'Patch-Id', spec.id)).toHaveLength(1);
  });
});
