/**
 * Rollback of many targets on real parts (dev server, worker, PostgreSQL, git, HTTP health): the waves are undone
 * newest first, the targets of a wave in a pool of `revertParallelism` that is kept full and never exceeded, and
 * every target is reverted exactly once. Runs start at their rollout (startRollout): testing 30 targets is other
 * tests' business.
 */
import type { PatchState, Target } from '../../src/domain/types';
import { createLifecycleHarness, type LifecycleHarness, type PatchHandle } from '../support/lifecycle';
import { revertTimeline, type RevertTimeline } from '../support/revert-history';

jest.setTimeout(300_000);

describe('rollback of many targets', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await createLifecycleHarness();
  }, 120_000);
  afterAll(async () => {
    await h.close();
  });

  async function timeline(handle: PatchHandle): Promise<RevertTimeline> {
    return revertTimeline((await handle.fetchHistory()).events ?? []);
  }

  async function revertRows(patchId: string): Promise<Array<{ target_id: string; status: string; revert_commit: string | null }>> {
    const { rows } = await h.db.pool.query<{ target_id: string; status: string; revert_commit: string | null }>(
      'SELECT target_id, status, revert_commit FROM deployments WHERE patch_id = $1',
      [patchId],
    );
    return rows;
  }

  function expectRevertedOnce(targets: readonly Target[], patchId: string, result: PatchState): void {
    for (const target of targets) {
      expect(h.commitsWithTrailer(target, 'Patch-Id', patchId)).toHaveLength(1);
      expect(h.commitsWithTrailer(target, 'Reverts-Patch-Id', patchId)).toHaveLength(1);
    }
    expect(result.deployments.map((deployment) => deployment.status)).toEqual(targets.map(() => 'reverted'));
  }

  test('30 targets in two waves, at most 3 reverts at a time: newest wave first, the pool kept full, each target reverted once', async () => {
    const bound = 3;
    const targets = await h.createTargets(30);
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 50 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 8, revertParallelism: bound },
    });
    // The last target is in wave 2: wave 1 passes its window, wave 2 fails its first round.
    h.health.set(targets[29]!.name, 503);
    const handle = await h.startRollout(spec);
    const result = await h.runWorker(handle.result());
    h.health.delete(targets[29]!.name);

    expect(result.status).toBe('rolled_back');
    expect(result.statusReason).toMatch(/^health failed in wave 2: /);
    expectRevertedOnce(targets, spec.id, result);
    const rows = await revertRows(spec.id);
    expect(rows).toHaveLength(30);
    for (const row of rows) expect(row).toMatchObject({ status: 'reverted', revert_commit: expect.stringMatching(/^[0-9a-f]{40}$/) });

    const { reverts, inFlightAfterCommands, maxInFlight } = await timeline(handle);
    // One revert activity per target, none retried into a second one.
    expect(reverts.map((revert) => revert.targetId).sort()).toEqual(targets.map((target) => target.id).sort());
    expect(reverts.every((revert) => revert.closedAt !== undefined)).toBe(true);
    // Newest wave first: every revert of wave 1 is scheduled after the last revert of wave 2 ended.
    const wave2 = reverts.filter((revert) => revert.wave === 2);
    const wave1 = reverts.filter((revert) => revert.wave === 1);
    expect([wave2.length, wave1.length]).toEqual([15, 15]);
    const wave2Ended = Math.max(...wave2.map((revert) => revert.closedAt ?? Infinity));
    expect(Math.min(...wave1.map((revert) => revert.scheduledAt))).toBeGreaterThan(wave2Ended);
    // Never more than the bound in flight, and the bound reached.
    expect(maxInFlight).toBe(bound);
    // A pool, not batches: whenever the wave still had reverts to start, the workflow kept `bound` of them in flight.
    const whileFilling = inFlightAfterCommands.filter((point) => point.unscheduledInWave > 0);
    expect(whileFilling.length).toBeGreaterThan(10);
    expect(whileFilling.filter((point) => point.inFlight !== bound)).toEqual([]);
  });

  test('a failing result ends the health round at once: the rollback starts before slower targets answer, and a round is one write', async () => {
    const targets = await h.createTargets(4);
    const [failing, ...slow] = targets;
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 60, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
    });
    h.health.set(failing!.name, 503);
    for (const target of slow) h.healthDelayMs.set(target.name, 1_500);
    const handle = await h.startRollout(spec);
    const result = await h.runWorker(handle.result());
    h.health.delete(failing!.name);
    for (const target of slow) h.healthDelayMs.delete(target.name);
    h.recordHistory(handle, 'health-round-decided-early');

    expect(result.status).toBe('rolled_back');
    expect(result.statusReason).toContain(failing!.name);
    expectRevertedOnce(targets, spec.id, result);
    const events = (await handle.fetchHistory()).events ?? [];
    const activityIndexes = (type: string, kind: 'scheduled' | 'completed'): number[] => {
      const scheduled = new Map<string, number>();
      const indexes: number[] = [];
      events.forEach((event, index) => {
        if (event.activityTaskScheduledEventAttributes?.activityType?.name === type) {
          scheduled.set(String(event.eventId), index);
          if (kind === 'scheduled') indexes.push(index);
        }
        const completed = event.activityTaskCompletedEventAttributes;
        if (kind === 'completed' && completed && scheduled.has(String(completed.scheduledEventId))) indexes.push(index);
      });
      return indexes;
    };
    // The four checks of the one round; the reverts were scheduled once the failing one answered, before the slow ones did.
    expect(activityIndexes('checkTargetHealth', 'scheduled')).toHaveLength(4);
    const firstRevert = Math.min(...activityIndexes('revertTarget', 'scheduled'));
    expect(activityIndexes('checkTargetHealth', 'completed').filter((index) => index < firstRevert)).toHaveLength(1);
    // The round's samples: one bookkeeping write, holding what decided it.
    expect(activityIndexes('recordHealthRound', 'scheduled')).toEqual([]);
    expect(activityIndexes('recordHealthRounds', 'scheduled')).toHaveLength(1);
    const { rows } = await h.db.pool.query<{ target_id: string; ok: boolean }>('SELECT target_id, ok FROM health_samples WHERE patch_id = $1', [spec.id]);
    expect(rows).toContainEqual({ target_id: failing!.id, ok: false });
  });
});
