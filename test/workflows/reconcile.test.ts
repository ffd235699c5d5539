/**
 * The reconciler on real parts (dev server with its schedule, worker, PostgreSQL, bare git repositories): a patch
 * whose lifecycle run is terminated halfway through its rollout is reverted everywhere and closed with the reason;
 * a run that completed while its final status never reached the read model gets that status.
 */
import { execFileSync } from 'node:child_process';
import { listAuditEvents } from '../../src/store/audit';
import { getPatch } from '../../src/store/patches';
import { ensureReconcileSchedule, reconcileScheduleId } from '../../src/temporal/schedules';
import { patchStatusQuery } from '../../src/workflows/patch-lifecycle';
import { approveWhenReady, createLifecycleHarness, type LifecycleHarness, until } from '../support/lifecycle';

jest.setTimeout(240_000);

describe('reconciler', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await createLifecycleHarness();
    await ensureReconcileSchedule(h.client, h.config.temporal, 5);
  }, 120_000);
  afterAll(async () => {
    await h.client.schedule.getHandle(reconcileScheduleId(h.config.temporal.taskQueue)).delete();
    await h.close();
  });

  test('a run terminated halfway through the rollout: every target is reverted within 2 minutes and the patch says why', async () => {
    const targets = await h.createTargets(3);
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 50 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 600, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
    });
    const handle = await h.start(spec);
    const terminatedAt = await h.runWorker(
      (async () => {
        await approveWhenReady(handle);
        // Two targets of wave 1 deployed and watched (the window is long): then the run is terminated.
        await until('wave 1 deployed', async () => {
          const state = await handle.query(patchStatusQuery);
          return state.deployments.filter((d) => d.status === 'deployed').length === 2 ? true : undefined;
        });
        await handle.terminate('an operator terminated it');
        const at = Date.now();
        await until('the reconciler closing the patch', async () => ((await getPatch(h.db.pool, spec.id))?.status === 'rolled_back' ? true : undefined));
        return at;
      })(),
    );
    expect(Date.now() - terminatedAt).toBeLessThan(120_000);
    const patch = await getPatch(h.db.pool, spec.id);
    expect(patch?.statusReason).toMatch(/^its lifecycle run was terminated while the patch was deploying; compensated by the reconciler: reverted on /);
    for (const target of targets.slice(0, 2)) expect(h.commitsWithTrailer(target, 'Reverts-Patch-Id', spec.id)).toHaveLength(1);
    // The third target never got the patch, and never will: its revert left the marker deploys respect.
    expect(h.commitsWithTrailer(targets[2]!, 'Patch-Id', spec.id)).toEqual([]);
    const { rows } = await h.db.pool.query<{ target_id: string }>('SELECT target_id FROM revert_markers WHERE patch_id = $1', [spec.id]);
    expect(rows.map((row) => row.target_id)).toEqual([targets[2]!.id]);
    const events = await listAuditEvents(h.db.pool, { subjectType: 'patch', subjectId: spec.id, limit: 1000 });
    expect(events.filter((e) => e.actor === 'system:reconciler').map((e) => e.action)).toEqual(['patch.rolling_back', 'patch.rolled_back']);
    const show = execFileSync('git', ['log', '--format=%s', 'main'], { cwd: targets[0]!.repoUrl, encoding: 'utf8' });
    expect(show.split('\n')[0]).toMatch(/^Revert "/);
  });

  test('a run that completed while its final status never reached the read model gets that status', async () => {
    const [target] = await h.createTargets(1);
    const spec = await h.spec([target!], {
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 1 },
    });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await approveWhenReady(handle);
        const final = await handle.result();
        // As if the last transition's write had failed for good.
        await h.db.ownerPool.query("UPDATE patches SET status = 'deploying' WHERE id = $1", [spec.id]);
        await until('the reconciler', async () => ((await getPatch(h.db.pool, spec.id))?.status === 'deployed' ? true : undefined));
        return final;
      })(),
    );
    expect(result.status).toBe('deployed');
    expect((await getPatch(h.db.pool, spec.id))?.statusReason).toBe(result.statusReason);
  });
});
