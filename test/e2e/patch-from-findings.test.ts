/**
 * A patch generated from findings, end to end through the real API: a Temporal dev server, a worker with the real
 * activities, PostgreSQL and two bare git repositories. Analyses of both targets, a patch from their findings,
 * its tests, two Guardians' approvals (its fixes are unsafe), deployed commits whose changes are the generated
 * per-target diffs, and new analyses that no longer report the fixed findings.
 */
import { execFileSync } from 'node:child_process';
import type { Express } from 'express';
import request from 'supertest';
import type { Finding } from '../../src/domain/types';
import { createLifecycleHarness, type LifecycleHarness, waitForStatus } from '../support/lifecycle';
import { apiOverHarness } from '../support/harness-api';

jest.setTimeout(240_000);

/** A diff's file headers and added and removed lines: what two diffs of the same change share. */
function changedLines(diff: string): string[] {
  return diff.split('\n').filter((line) => /^[-+]/.test(line));
}

interface ShownTargetDiff {
  targetId: string;
  analysisId: string;
  analysisCommit: string;
  baseCommit: string;
  regenerated: unknown;
  diffSha256: string;
  diff: string;
  findings: Array<{ ruleId: string; fingerprint: string; docs: string }>;
}

describe('a patch from findings through the API', () => {
  let h: LifecycleHarness;
  let app: Express;
  let operator: string;
  let guardian: string;
  let secondGuardian: string;

  beforeAll(async () => {
    h = await createLifecycleHarness();
    const api = await apiOverHarness(h);
    app = api.app;
    [operator, guardian, secondGuardian] = await Promise.all([api.token('olga', ['operator']), api.token('gus', ['guardian']), api.token('gwen', ['guardian'])]);
  }, 120_000);

  afterAll(async () => {
    await h.close();
  });

  const post = (path: string, token: string, body: object) => request(app).post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body);
  const get = (path: string) => request(app).get(`/api/v1${path}`).set('Authorization', `Bearer ${operator}`);

  async function analyze(targetId: string): Promise<{ id: string; commitSha: string; findings: Finding[] }> {
    const res = await post('/analyses', operator, { targetId });
    expect(res.status).toBe(201);
    return res.body as { id: string; commitSha: string; findings: Finding[] };
  }

  test('analyses of two targets, a patch from their findings, tests, approval, deployed diffs that fix them', async () => {
    const targets = await h.createTargets(2);
    await h.runWorker(
      (async () => {
        const analyses = await Promise.all(targets.map((target) => analyze(target.id)));
        const fixed = analyses.map((analysis) => analysis.findings.filter((finding) => finding.ruleId === 'missing-job-timeout'));
        for (const findings of fixed) expect(findings).toEqual([expect.objectContaining({ fixable: true })]);

        const created = await post('/patches', operator, {
          fromFindings: { analysisIds: analyses.map((analysis) => analysis.id), ruleIds: ['missing-job-timeout'], unsafe: true },
          rollout: { waves: [{ percent: 50 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1 } },
        });
        expect(created.status).toBe(202);
        expect(created.body).toMatchObject({ title: 'Fix 2 missing-job-timeout findings on 2 targets', type: 'refactor', skippedTargets: [] });
        expect(created.body.targetDiffs).toEqual(targets.map((target, index) => ({ targetId: target.id, analysisId: analyses[index]?.id, findings: 1 })));
        // The timeout fix may cut a slow job short: unsafe, so two Guardians must approve.
        expect(created.body.approval).toMatchObject({ quorum: 2, requestedQuorum: 1 });
        const unsafeFix = (name: string): string => `${name}: the fix "Add \`timeout-minutes\` to job \`build\`" (missing-job-timeout) in .github/workflows/ci.yml is unsafe: it may change what the workflow does`;
        expect(created.body.approval.reasons).toEqual(targets.map((target) => unsafeFix(target.name)));
        const patchId = String(created.body.id);
        const handle = h.client.workflow.getHandle(`patch-${patchId}`);

        await waitForStatus(handle, 'awaiting_approval');
        const tested = await get(`/patches/${patchId}`);
        expect(tested.body.description).toContain('[`missing-job-timeout`](docs/rules.md#missing-job-timeout)');
        const shown = tested.body.targetDiffs as ShownTargetDiff[];
        expect(shown.map((entry) => [entry.targetId, entry.analysisCommit, entry.baseCommit, entry.regenerated])).toEqual(
          targets.map((target, index) => [target.id, analyses[index]?.commitSha, analyses[index]?.commitSha, null]),
        );
        shown.forEach((entry, index) => expect(entry.findings.map((finding) => finding.fingerprint)).toEqual(fixed[index]?.map((finding) => finding.fingerprint)));
        const isolated = (tested.body.tests as Array<{ stage: string; targetId: string; details: Record<string, unknown> }>).filter((test) => test.stage === 'isolated');
        expect(isolated).toHaveLength(2);
        for (const test of isolated) {
          expect(test.details).toMatchObject({ resolvedFindings: [expect.objectContaining({ ruleId: 'missing-job-timeout' })], unresolvedFindings: [], newFindings: [] });
        }

        expect((await post(`/patches/${patchId}/approve`, guardian, { comment: 'generated, reviewed' })).status).toBe(200);
        expect((await post(`/patches/${patchId}/approve`, secondGuardian, { comment: 'the timeouts are long enough' })).status).toBe(200);
        // The run's result: its bookkeeping is settled, so the read model shows the end too.
        expect((await handle.result()).status).toBe('deployed');
        const deployed = await get(`/patches/${patchId}`);
        const deployments = deployed.body.deployments as Array<{ targetId: string; deployedCommit: string; previousCommit: string }>;
        for (const [index, target] of targets.entries()) {
          const deployment = deployments.find((entry) => entry.targetId === target.id);
          const change = execFileSync('git', ['diff', deployment?.previousCommit ?? '', deployment?.deployedCommit ?? ''], { cwd: target.repoUrl, encoding: 'utf8' });
          expect(changedLines(change)).toEqual(changedLines(shown[index]?.diff ?? ''));
        }

        const after = await Promise.all(targets.map((target) => analyze(target.id)));
        for (const [index, analysis] of after.entries()) {
          expect(analysis.commitSha).toBe(deployments.find((entry) => entry.targetId === targets[index]?.id)?.deployedCommit);
          const prints = new Set(analysis.findings.map((finding) => finding.fingerprint));
          expect(analysis.findings.filter((finding) => finding.ruleId === 'missing-job-timeout')).toEqual([]);
          for (const finding of fixed[index] ?? []) expect(prints.has(finding.fingerprint)).toBe(false);
        }
      })(),
    );
  });
});
