/**
 * The reports of a real lifecycle: analyses of two bare git repositories, a patch generated from their findings
 * through the API, tested, approved, deployed by a worker with the real activities on a Temporal dev server, and
 * rolled back when the second wave's health check fails. The patch report and the fleet report then tell that
 * story from the read model, in JSON and in Markdown.
 */
import type { Express } from 'express';
import request from 'supertest';
import { TEST_STAGES } from '../../src/domain/types';
import type { FleetReport } from '../../src/reports/fleet-report';
import type { PatchReport } from '../../src/reports/patch-report';
import type { DailyScore } from '../../src/store/scores';
import { approveUpdate } from '../../src/workflows/patch-lifecycle';
import { approveWhenReady, createLifecycleHarness, type LifecycleHarness } from '../support/lifecycle';
import { apiOverHarness } from '../support/harness-api';

jest.setTimeout(240_000);

describe('the reports of a patch that was rolled back', () => {
  let h: LifecycleHarness;
  let app: Express;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    h = await createLifecycleHarness();
    const api = await apiOverHarness(h);
    app = api.app;
    [operator, viewer] = await Promise.all([api.token('olga', ['operator']), api.token('vera', ['viewer'])]);
  }, 120_000);

  afterAll(async () => {
    await h.close();
  });

  const analyze = async (targetId: string): Promise<string> => {
    const res = await request(app).post('/api/v1/analyses').set('Authorization', `Bearer ${operator}`).send({ targetId });
    expect(res.status).toBe(201);
    return String(res.body.id);
  };
  const get = (path: string) => request(app).get(`/api/v1${path}`).set('Authorization', `Bearer ${viewer}`);

  test('what changed, why, tests, approval, rollout with its revert, scores and the workflow link', async () => {
    const targets = await h.createTargets(2);
    const [canary, second] = targets as [(typeof targets)[number], (typeof targets)[number]];
    h.health.set(second.name, 503);
    const patchId = await h.runWorker(
      (async () => {
        const analyses = await Promise.all(targets.map((target) => analyze(target.id)));
        const created = await request(app)
          .post('/api/v1/patches')
          .set('Authorization', `Bearer ${operator}`)
          .send({
            fromFindings: { analysisIds: analyses, ruleIds: ['missing-job-timeout'], unsafe: true },
            rollout: { waves: [{ percent: 50 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2 } },
          });
        expect(created.status).toBe(202);
        const handle = h.client.workflow.getHandle(`patch-${String(created.body.id)}`);
        // The timeout fix is unsafe: two Guardians.
        await approveWhenReady(handle);
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gus', comment: null }] });
        await handle.result();
        // The canary stayed reverted meanwhile: an analysis after its revert does not count as "after".
        await analyze(canary.id);
        return String(created.body.id);
      })(),
    );

    const res = await get(`/patches/${patchId}/report`);
    expect(res.status).toBe(200);
    const report = res.body as PatchReport;
    expect(report.patch).toMatchObject({ status: 'rolled_back', title: 'Fix 2 missing-job-timeout findings on 2 targets' });
    expect(report.workflow.url).toBe(`${h.config.temporal.uiUrl}/namespaces/default/workflows/patch-${patchId}`);
    expect(report.changes.diffs.map((diff) => diff.target?.name)).toEqual([canary.name, second.name]);
    for (const diff of report.changes.diffs) expect(diff.stats).toMatchObject({ filesChanged: 1, linesAdded: 1, linesRemoved: 0 });
    expect(report.changes.total).toEqual({ filesChanged: 1, linesAdded: 2, linesRemoved: 0 });
    expect(report.findings.map((finding) => [finding.target.name, finding.ruleId, finding.docs])).toEqual(
      targets.map((target) => [target.name, 'missing-job-timeout', 'docs/rules.md#missing-job-timeout']),
    );
    expect(report.tests.map((run) => [run.target.name, run.stage])).toEqual(targets.flatMap((target) => TEST_STAGES.map((stage) => [target.name, stage])));
    for (const run of report.tests) {
      expect(run.passed).toBe(true);
      expect(run.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(report.approval).toMatchObject({
      quorum: 2,
      approvals: 2,
      quorumMet: true,
      reasons: expect.arrayContaining([expect.stringContaining('unsafe')]),
      decisions: [expect.objectContaining({ guardian: 'gina', decision: 'approved' }), expect.objectContaining({ guardian: 'gus', decision: 'approved' })],
    });
    expect(report.rollout.waves.map((wave) => [wave.wave, wave.percent, wave.deployments.map((deployment) => [deployment.target.name, deployment.status])])).toEqual([
      [1, 50, [[canary.name, 'reverted']]],
      [2, 100, [[second.name, 'reverted']]],
    ]);
    const failing = report.rollout.waves[1]?.deployments[0];
    expect(failing?.health).toMatchObject({ failed: 1, firstFailureAt: expect.any(String) });
    expect(failing?.deployedCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(failing?.revertCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(report.rollout.transitions.map((transition) => transition.to).slice(-2)).toEqual(['rolling_back', 'rolled_back']);
    // Both were analysed before the patch; neither since it was deployed and before it was reverted.
    expect(report.scores.map((score) => [score.target.name, typeof score.before?.score, score.afterState])).toEqual(
      targets.map((target) => [target.name, 'number', 'not-analysed-since']),
    );

    const markdown = (await get(`/patches/${patchId}/report`).set('Accept', 'text/markdown')).text;
    for (const heading of ['## What changed', '## Why', '## Tests', '## Approval', '## Rollout', '## Score', '## Diffs']) expect(markdown).toContain(heading);
    expect(markdown).toContain('[missing\\-job\\-timeout](docs/rules.md#missing-job-timeout)');
    expect(markdown).toContain('**Status:** `rolled_back`: health failed in wave 2');
    expect(markdown).toContain(`/namespaces/default/workflows/patch-${patchId})`);
    expect(markdown).toContain('```diff\n');

    const fleet = (await get('/reports/fleet')).body as FleetReport;
    expect(fleet.rollouts).toMatchObject({ ended: 1, rolledBack: 1, successRate: 0 });
    expect(fleet.rollbacks).toMatchObject({ rolledBack: 1, measured: 1, targetsReverted: 2 });
    expect(fleet.rollbacks.meanSecondsToRollback).toBeGreaterThan(0);
    const canaryRow = fleet.targets.find((row) => row.target.id === canary.id);
    expect(canaryRow).toMatchObject({ deployments: { kept: 0, reverted: 1, failed: 0 }, trend: 0 });
    expect(canaryRow?.openFindings.total).toBeGreaterThan(0);
    // Both analyses of the canary ran today (or across midnight): the last daily point is the latest analysis.
    const scores = (await get(`/targets/${canary.id}/scores?days=1`)).body as { points: DailyScore[] };
    expect(scores.points.at(-1)?.analysisId).toBe(canaryRow?.score?.analysisId);
    h.health.delete(second.name);
  });
});
