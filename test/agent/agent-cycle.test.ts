/**
 * The agent end to end on a real Temporal dev server, a worker with the real activities, PostgreSQL and four bare
 * git repositories whose CI workflow has a fixable finding of two rules (missing-job-timeout, an unsafe fix, and
 * checkout-persisted-credentials). A policy over them (selected by label) runs a cycle through its schedule: one
 * campaign patch per rule; a branch that moves meanwhile changes nothing (the open patches cover its findings).
 * A Guardian approves one (deployed) and rejects the other; the next cycle proposes
 * nothing; a commit adding a job without a timeout to one target makes the following cycle propose exactly that,
 * and never the rejected fix again.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import type { Target } from '../../src/domain/types';
import { createTarget } from '../../src/store/targets';
import { agentCycleWorkflow } from '../../src/workflows/agent-cycle';
import { createBareRepository } from '../support/git-fixtures';
import { CI_WORKFLOW, createLifecycleHarness, type LifecycleHarness, until, waitForStatus } from '../support/lifecycle';
import { apiOverHarness } from '../support/harness-api';

jest.setTimeout(300_000);

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'dev', GIT_AUTHOR_EMAIL: 'dev@example.invalid', GIT_COMMITTER_NAME: 'dev', GIT_COMMITTER_EMAIL: 'dev@example.invalid' };

interface CycleRow {
  id: string;
  status: string;
  patchIds: string[];
  counts: { targetsSelected: number; targetsScanned: number; findingsEligible: number; patchesProposed: number; skipped: { covered: number; rejected: number; overLimit: number } };
}

describe('an agent policy over four repositories', () => {
  let h: LifecycleHarness;
  let app: Express;
  let admin: string;
  let guardian: string;
  let secondGuardian: string;
  let viewer: string;

  beforeAll(async () => {
    h = await createLifecycleHarness();
    const api = await apiOverHarness(h);
    app = api.app;
    [admin, guardian, secondGuardian, viewer] = await Promise.all([api.token('ada', ['admin']), api.token('gus', ['guardian']), api.token('gwen', ['guardian']), api.token('vic', ['viewer'])]);
  }, 120_000);

  afterAll(async () => {
    await h.close();
  });

  const post = (url: string, token: string, body: object = {}) => request(app).post(`/api/v1${url}`).set('Authorization', `Bearer ${token}`).send(body);
  const get = (url: string) => request(app).get(`/api/v1${url}`).set('Authorization', `Bearer ${viewer}`);

  async function registerTarget(name: string, labels: Record<string, string>): Promise<Target> {
    const repo = createBareRepository(h.scratch, { '.github/workflows/ci.yml': CI_WORKFLOW, Makefile: 'all:\n\ttrue\n' });
    return createTarget(h.db.pool, {
      name,
      repoUrl: repo,
      branch: 'main',
      healthChecks: [{ type: 'http', url: h.healthUrl, expectStatus: 200, timeoutMs: 2000 }],
      verifyCommand: null,
      workflowRun: false,
      labels,
      createdBy: 'test',
    });
  }

  /** Pushes a commit to the target's branch that changes `file` (repository-relative) from its current text. */
  function pushChange(target: Target, file: string, change: (current: string) => string): void {
    const work = mkdtempSync(path.join(h.scratch, 'push-'));
    const git = (args: string[]): string => execFileSync('git', args, { cwd: work, env: GIT_ENV, encoding: 'utf8' });
    git(['clone', '-q', target.repoUrl, '.']);
    const current = git(['show', `HEAD:${file}`]);
    writeFileSync(path.join(work, file), change(current));
    git(['commit', '-qam', `Change ${file}`]);
    git(['push', '-q', 'origin', 'HEAD:main']);
  }

  /** Starts a cycle through the schedule and waits for it to be recorded as completed. */
  async function runCycle(policyId: string, before: number): Promise<CycleRow> {
    expect((await post(`/policies/${policyId}/run`, admin)).status).toBe(202);
    return until(
      'the cycle to complete',
      async () => {
        const cycles = (await get(`/policies/${policyId}/cycles`)).body.items as CycleRow[];
        return cycles.length > before && cycles[0]?.status === 'completed' ? cycles[0] : undefined;
      },
      120_000,
    );
  }

  test('campaigns per rule, approval and rejection, nothing new, exactly the new finding, the rejection remembered', async () => {
    const targets = await Promise.all([1, 2, 3, 4].map((n) => registerTarget(`fleet/repo-${n}`, { team: 'payments' })));
    await registerTarget('fleet/other', { team: 'search' });

    const created = await post('/policies', admin, {
      name: 'payments-hygiene',
      targets: { labels: { team: 'payments' } },
      schedule: { interval: '24h' },
      rules: ['missing-job-timeout', 'checkout-persisted-credentials'],
      unsafe: true,
      grouping: 'per-rule',
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1 } },
      maxOpenPatches: 5,
    });
    expect(created.status).toBe(201);
    const policyId = String(created.body.id);
    const schedule = await h.client.schedule.getHandle(`agent-${policyId}`).describe();
    expect(schedule.policies.overlap).toBe('SKIP');
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'agentCycleWorkflow' });

    await h.runWorker(
      (async () => {
        // Cycle 1: one campaign per rule across the four selected targets.
        const first = await runCycle(policyId, 0);
        expect(first.counts).toMatchObject({ targetsSelected: 4, targetsScanned: 4, findingsEligible: 8, patchesProposed: 2, skipped: { covered: 0, rejected: 0, overLimit: 0 } });
        // The same counts are the cycle workflow's result.
        expect(await h.client.workflow.getHandle(first.id).result()).toMatchObject({ ...first.counts, policyName: 'payments-hygiene', patchIds: first.patchIds });
        const campaigns = (await get('/campaigns')).body.items as Array<{ id: string; ruleId: string; counts: Record<string, number> }>;
        expect(campaigns.map((campaign) => campaign.ruleId).sort()).toEqual(['checkout-persisted-credentials', 'missing-job-timeout']);
        expect(campaigns.map((campaign) => campaign.id).sort()).toEqual([...first.patchIds].sort());
        const timeouts = campaigns.find((campaign) => campaign.ruleId === 'missing-job-timeout');
        const checkout = campaigns.find((campaign) => campaign.ruleId === 'checkout-persisted-credentials');
        const timeoutPatch = (await get(`/patches/${timeouts?.id}`)).body;
        // The timeout fix is unsafe: two Guardians must approve it.
        expect(timeoutPatch).toMatchObject({ author: 'agent:payments-hygiene', targetIds: expect.arrayContaining(targets.map((target) => target.id)), approval: { quorum: 2 } });
        expect(timeoutPatch.targetIds).toHaveLength(4);

        const timeoutRun = h.client.workflow.getHandle(`patch-${timeouts?.id}`);
        const checkoutRun = h.client.workflow.getHandle(`patch-${checkout?.id}`);
        // The lifecycles are children of the cycle that outlive it.
        expect((await timeoutRun.describe()).parentExecution?.workflowId).toBe(first.id);
        await Promise.all([waitForStatus(timeoutRun, 'awaiting_approval'), waitForStatus(checkoutRun, 'awaiting_approval')]);
        expect((await get(`/campaigns/${timeouts?.id}`)).body.counts).toMatchObject({ pending_approval: 4 });

        // A target's branch moves while both wait: the open patches still cover its findings (by fingerprint).
        pushChange(targets[1] as Target, 'Makefile', (current) => `${current}lint:\n\ttrue\n`);
        const moved = await runCycle(policyId, 1);
        expect(moved.counts).toMatchObject({ findingsEligible: 8, patchesProposed: 0, skipped: { covered: 8, rejected: 0, overLimit: 0 } });

        expect((await post(`/patches/${timeouts?.id}/approve`, guardian, { comment: 'timeouts are fine' })).status).toBe(200);
        expect((await post(`/patches/${timeouts?.id}/approve`, secondGuardian, { comment: 'agreed' })).status).toBe(200);
        expect((await post(`/patches/${checkout?.id}/reject`, guardian, { reason: 'we fetch tags later with these credentials' })).status).toBe(200);
        // The runs' results: their bookkeeping is settled, so the next cycle reads the ends from the read model.
        expect((await timeoutRun.result()).status).toBe('deployed');
        expect((await checkoutRun.result()).status).toBe('rejected');

        // Cycle 2: the timeouts are fixed, the rejected fix is remembered: nothing new.
        const second = await runCycle(policyId, 2);
        expect(second.counts).toMatchObject({ targetsScanned: 4, findingsEligible: 4, patchesProposed: 0, skipped: { covered: 0, rejected: 4, overLimit: 0 } });
        const fixed = (await get(`/campaigns/${timeouts?.id}`)).body;
        expect(fixed.counts).toMatchObject({ fixed: 4 });
        expect(fixed.trend).toEqual({ before: 4, after: 0 });
        expect((await get(`/campaigns/${checkout?.id}`)).body.counts).toMatchObject({ rejected: 4 });
        // The fleet report lists both campaigns with their counts and trend.
        const fleet = (await get('/reports/fleet')).body;
        expect(fleet.campaigns).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ id: timeouts?.id, ruleId: 'missing-job-timeout', counts: expect.objectContaining({ fixed: 4 }), trend: { before: 4, after: 0 } }),
            expect.objectContaining({ id: checkout?.id, ruleId: 'checkout-persisted-credentials', counts: expect.objectContaining({ rejected: 4 }) }),
          ]),
        );
        const fleetMarkdown = (await get('/reports/fleet?format=md')).text;
        expect(fleetMarkdown).toContain('## Campaigns');
        expect(fleetMarkdown).toMatch(/\| `missing-job-timeout` \| payments\\-hygiene \| `deployed` \| 4 \|/);

        // A new job without a timeout on one target: the next cycle proposes exactly that finding.
        const [changed] = targets;
        pushChange(changed as Target, '.github/workflows/ci.yml', (current) => `${current}  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make lint\n`);
        const third = await runCycle(policyId, 3);
        expect(third.counts).toMatchObject({ findingsEligible: 5, patchesProposed: 1, skipped: { covered: 0, rejected: 4, overLimit: 0 } });
        const proposed = (await get(`/patches/${third.patchIds[0]}`)).body;
        expect(proposed.targetIds).toEqual([changed?.id]);
        const diffs = proposed.targetDiffs as Array<{ findings: Array<{ ruleId: string; file: string; line: number }> }>;
        expect(diffs.flatMap((entry) => entry.findings.map((finding) => finding.ruleId))).toEqual(['missing-job-timeout']);
        expect(diffs[0]?.findings[0]?.line).toBeGreaterThan(10);
      })(),
    );
  });

  test('two cycles at once (a start beside the schedule) create each patch once', async () => {
    await Promise.all([1, 2].map((n) => registerTarget(`overlap/repo-${n}`, { team: 'overlap' })));
    const created = await post('/policies', admin, {
      name: 'overlap',
      targets: { labels: { team: 'overlap' } },
      schedule: { interval: '24h' },
      rules: ['missing-job-timeout', 'checkout-persisted-credentials'],
      unsafe: true,
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1 } },
    });
    expect(created.status).toBe(201);
    const policyId = String(created.body.id);
    const results = await h.runWorker(
      Promise.all(['a', 'b'].map((run) => h.client.workflow.execute(agentCycleWorkflow, { taskQueue: h.taskQueue, workflowId: `agent-cycle-${policyId}-${run}`, args: [{ policyId }] }))),
    );
    expect(results.map((result) => result.patchesProposed).reduce((total, count) => total + count, 0)).toBe(2);
    const { rows } = await h.db.pool.query<{ patch_id: string }>('SELECT patch_id FROM agent_patches WHERE policy_id = $1', [policyId]);
    expect(rows.map((row) => row.patch_id).sort()).toEqual(results.flatMap((result) => result.patchIds).sort());
    // Each lifecycle was started once, by the cycle that created its patch.
    for (const row of rows) expect((await h.client.workflow.getHandle(`patch-${row.patch_id}`).describe()).status.name).toBe('RUNNING');
    // Each cycle scanned through a fleet scan child workflow, recorded in the read model: no event per target in the cycle.
    for (const run of ['a', 'b']) {
      const events = (await h.client.workflow.getHandle(`agent-cycle-${policyId}-${run}`).fetchHistory()).events ?? [];
      expect(events.flatMap((event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? [])).toContain('fleetScanWorkflow');
      expect(events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).not.toContain('analyzeTarget');
    }
    const scans = await h.db.pool.query<{ status: string; targets: number }>(`SELECT status, cardinality(target_ids) AS targets FROM fleet_scans WHERE requested_by = 'agent:overlap'`);
    expect(scans.rows).toEqual([{ status: 'completed', targets: 2 }, { status: 'completed', targets: 2 }]);
  });
});
