/**
 * The report routes over a real database whose rows are written by the store functions the lifecycle's
 * activities use: JSON shape, Markdown content and escaping of hostile titles, logs and paths, size bounds,
 * content negotiation, query validation, 404s and roles.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import type { ApprovalSpec, Category, Finding, PatchSpec, ResolvedFinding, Severity, Target } from '../../src/domain/types';
import type { FleetReport } from '../../src/reports/fleet-report';
import type { PatchReport } from '../../src/reports/patch-report';
import { completeAnalysis, startAnalysis } from '../../src/store/analyses';
import type { DailyScore, TargetScoreHistory } from '../../src/store/scores';
import { saveTargetDiffs } from '../../src/store/patch-target-diffs';
import { createPatch, recordPatchTransition, saveApproval, saveDeployment, saveHealthRound, saveTestRuns } from '../../src/store/patches';
import { createTestApi, PERMISSIONS_DIFF, storedTarget, type TestApi } from '../support/api';

const HOSTILE_TITLE = 'Pin `perms` | <script>alert(1)</script> [x](javascript:alert(1))';
const LONG_LOG = `${'noise line\n'.repeat(1_000)}error: \u001b[31mfailed\u001b[0m \u202eevil\n\`\`\`\`\`\`\nstill inside | <img src=x onerror=alert(1)>\nthe end\n`;
const DAY_MS = 24 * 60 * 60 * 1000;

function finding(ruleId: string, category: Category, severity: Severity, line: number): Finding {
  return { ruleId, category, severity, confidence: 'high', file: '.github/workflows/ci.yml', line, column: 1, endLine: line, endColumn: 5, message: `${ruleId} here`, remediation: 'fix it', fixable: false, fingerprint: `${ruleId}-${line}` };
}

/** The Markdown without its fenced code blocks, whose text is shown literally, never as markup. */
function outsideCodeBlocks(markdown: string): string {
  let fence: string | null = null;
  const kept: string[] = [];
  for (const line of markdown.split('\n')) {
    if (fence === null) {
      const opening = /^`{3,}/.exec(line)?.[0];
      if (opening === undefined) kept.push(line);
      else fence = opening;
    } else if (new RegExp(`^\`{${fence.length},}\\s*$`).test(line)) {
      fence = null;
    }
  }
  return kept.join('\n');
}

describe('report routes', () => {
  let api: TestApi;
  let viewer: string;
  let nobody: string;
  let targets: Target[];
  let handWritten: string;
  let generated: string;

  const get = (path: string, token = viewer) => request(api.app).get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`);

  /** A succeeded analysis of `target` with `score`, completed `daysAgo` days ago. */
  async function analysis(target: Target, score: number, daysAgo: number): Promise<string> {
    const id = randomUUID();
    await startAnalysis(api.db.pool, { id, targetId: target.id, requestedBy: 'test' });
    await completeAnalysis(api.db.pool, id, { commitSha: 'a'.repeat(40), score, files: 1, findings: [finding('missing-job-timeout', 'efficiency', 'medium', 3), finding('unpinned-action', 'security', 'high', 7)] });
    await api.db.ownerPool.query(`UPDATE analyses SET completed_at = now() - make_interval(secs => $2) WHERE id = $1`, [id, daysAgo * 86_400]);
    return id;
  }

  async function storedPatch(overrides: Partial<PatchSpec>, approval: ApprovalSpec & { reasons?: string[] } = { quorum: 1, timeoutSeconds: 3600 }): Promise<string> {
    const id = randomUUID();
    await createPatch(api.db.pool, {
      id,
      workflowId: `patch-${id}`,
      title: 'a patch',
      type: 'security',
      description: null,
      author: 'olga',
      diff: PERMISSIONS_DIFF,
      targets,
      rollout: { waves: [{ percent: 50 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
      approval,
      ...overrides,
    });
    return id;
  }

  beforeAll(async () => {
    api = await createTestApi({ env: { TEMPORAL_UI_URL: 'http://ui.example:8233/', TEMPORAL_NAMESPACE: 'team space' } });
    [viewer, nobody] = await Promise.all([api.token(['viewer'], 'vera'), api.token([], 'nobody')]);
    targets = [await storedTarget(api.db, 'org/alpha'), await storedTarget(api.db, 'org/beta|`<b>`')];
    const [alpha, beta] = targets as [Target, Target];
    await analysis(alpha, 60, 100);
    await analysis(alpha, 70, 2);

    // A hand-written patch, rolled back after a failing health sample on wave 2.
    handWritten = await storedPatch({ title: HOSTILE_TITLE, description: 'Why:\n```\nnot a fence\n' }, { quorum: 1, timeoutSeconds: 3600, reasons: ['a fix is unsafe', 'changes permissions: | <b>'] });
    const started = new Date(Date.now() - 60_000);
    for (const [index, stage] of (['isolated', 'integration', 'safety', 'regression'] as const).entries()) {
      await saveTestRuns(api.db.pool, [{ patchId: handWritten, targetId: alpha.id, stage, passed: stage !== 'regression', summary: `${stage} | done`, log: stage === 'regression' ? LONG_LOG : 'ok', details: {}, startedAt: new Date(started.getTime() + index * 1000), finishedAt: new Date(started.getTime() + index * 1000 + 1500) }]);
    }
    const step = (name: string, outcome: string, logExcerpt?: string) => ({ stepId: name, name, outcome, durationMs: 10, ...(logExcerpt ? { logExcerpt } : {}) });
    await saveTestRuns(api.db.pool, [{
      patchId: handWritten,
      targetId: alpha.id,
      stage: 'workflow-run',
      passed: false,
      summary: '1 job(s) that passed without the patch fail with it',
      log: 'ci.yml build: BROKEN',
      details: {
        status: 'ran',
        workflows: ['.github/workflows/ci.yml'],
        blocking: true,
        durationMs: 900,
        jobs: [
          { workflowPath: '.github/workflows/ci.yml', jobId: 'build', verdict: 'broken', brokenSteps: [{ runName: 'build', stepId: 'test', stepName: 'make `test`', logExcerpt: 'make: *** [test] Error 2 | <x>' }], before: [{ runName: 'build', outcome: 'success', steps: [step('make `test`', 'success')] }], after: [{ runName: 'build', outcome: 'failure', steps: [step('make `test`', 'failure', 'make: *** [test] Error 2 | <x>')] }] },
          { workflowPath: '.github/workflows/ci.yml', jobId: 'docker', verdict: 'not-runnable', reason: 'uses a container', before: [], after: [] },
        ],
      },
      startedAt: started,
      finishedAt: new Date(started.getTime() + 900),
    }]);
    await saveApproval(api.db.pool, handWritten, { guardian: 'gus', decision: 'approved', comment: 'LGTM | `ok`', at: new Date().toISOString() });
    await saveDeployment(api.db.pool, { patchId: handWritten, targetId: alpha.id, wave: 1, status: 'deployed', deployedCommit: 'b'.repeat(40), previousCommit: 'a'.repeat(40), seq: 1 });
    await saveDeployment(api.db.pool, { patchId: handWritten, targetId: beta.id, wave: 2, status: 'deployed', deployedCommit: 'c'.repeat(40), previousCommit: 'a'.repeat(40), seq: 2 });
    const sampleAt = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
    await saveHealthRound(api.db.pool, { patchId: handWritten, targetId: alpha.id, wave: 1, round: 1, samples: [{ ok: true, checkType: 'http', check: 'GET /ok', detail: '200', latencyMs: 3, at: sampleAt(40) }] });
    await saveHealthRound(api.db.pool, { patchId: handWritten, targetId: beta.id, wave: 2, round: 1, samples: [{ ok: false, checkType: 'http', check: 'GET /ok', detail: '503 | <b>down</b>', latencyMs: 3, status: 503, at: sampleAt(30) }] });
    const transitions = [['pending', 'testing'], ['testing', 'awaiting_approval'], ['awaiting_approval', 'deploying'], ['deploying', 'rolling_back'], ['rolling_back', 'rolled_back']] as const;
    for (const [seq, [from, to]] of transitions.entries()) {
      await recordPatchTransition(api.db.pool, { patchId: handWritten, seq: seq + 1, from, to, reason: to === 'rolled_back' ? 'health failed in wave 2: org/beta|`<b>`' : null, at: sampleAt(to === 'rolled_back' ? 10 : to === 'rolling_back' ? 20 : 50 - seq) });
    }
    for (const target of targets) await saveDeployment(api.db.pool, { patchId: handWritten, targetId: target.id, wave: target === alpha ? 1 : 2, status: 'reverted', revertCommit: 'd'.repeat(40), seq: 10 });

    // A patch generated from findings: one diff per target, with the findings each resolves.
    generated = await storedPatch({ title: 'Fix 1 missing-job-timeout finding', targets: [alpha] });
    const resolved: ResolvedFinding = { ruleId: 'missing-job-timeout', fingerprint: 'f'.repeat(64), category: 'efficiency', severity: 'medium', file: '.github/workflows/ci.yml', line: 3, column: 3, message: 'Job `build` | has no <timeout>', fix: 'Add timeout-minutes: 30', safety: 'unsafe', docs: 'docs/rules.md#missing-job-timeout' };
    const analysisId = await analysis(alpha, 70, 1);
    await saveTargetDiffs(api.db.pool, generated, [{ targetId: alpha.id, analysisId, analysisCommit: 'a'.repeat(40), diff: PERMISSIONS_DIFF, selection: { unsafe: true }, findings: [resolved] }]);
  });
  afterAll(async () => {
    await api.close();
  });

  describe('GET /patches/:id/report', () => {
    test('JSON: what changed, tests with durations and compact jobs, approval with reasons, rollout, scores, workflow link', async () => {
      const res = await get(`/patches/${handWritten}/report`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers.vary).toMatch(/Accept/);
      const report = res.body as PatchReport;
      expect(report.patch).toMatchObject({ id: handWritten, title: HOSTILE_TITLE, status: 'rolled_back' });
      expect(report.workflow).toEqual({ id: `patch-${handWritten}`, namespace: 'team space', url: `http://ui.example:8233/namespaces/team%20space/workflows/patch-${handWritten}` });
      expect(report.changes.total).toEqual({ filesChanged: 1, linesAdded: 1, linesRemoved: 0 });
      expect(report.changes.diffs).toEqual([expect.objectContaining({ target: null, stats: expect.objectContaining({ files: [{ path: '.github/workflows/ci.yml', linesAdded: 1, linesRemoved: 0 }] }) })]);
      expect(report.findings).toEqual([]);
      expect(report.tests.map((run) => run.stage)).toEqual(['isolated', 'integration', 'safety', 'regression', 'workflow-run']);
      expect(report.tests[0]).toMatchObject({ durationMs: 1500, passed: true, jobs: null });
      const regression = report.tests[3] as PatchReport['tests'][number];
      expect(regression.log).toMatchObject({ truncated: true, totalChars: LONG_LOG.length });
      expect(regression.log.text.endsWith('the end\n')).toBe(true);
      expect(regression.log.text.length).toBeLessThanOrEqual(2_000);
      expect(report.tests[4]?.jobs).toEqual([
        { workflowPath: '.github/workflows/ci.yml', jobId: 'build', verdict: 'broken', failingStep: 'make `test`', failingStepLog: { text: 'make: *** [test] Error 2 | <x>', totalChars: 30, truncated: false }, reason: null },
        { workflowPath: '.github/workflows/ci.yml', jobId: 'docker', verdict: 'not-runnable', failingStep: null, failingStepLog: null, reason: 'uses a container' },
      ]);
      expect(report.approval).toMatchObject({ quorum: 1, reasons: ['a fix is unsafe', 'changes permissions: | <b>'], approvals: 1, quorumMet: true });
      expect(report.rollout.waves.map((wave) => [wave.wave, wave.percent])).toEqual([[1, 50], [2, 100]]);
      expect(report.rollout.waves[1]?.deployments[0]).toMatchObject({ status: 'reverted', revertCommit: 'd'.repeat(40), health: { samples: 1, failed: 1, errors: 0, firstFailureAt: expect.any(String) } });
      expect(report.rollout.transitions.map((transition) => transition.to)).toEqual(['testing', 'awaiting_approval', 'deploying', 'rolling_back', 'rolled_back']);
      // alpha: analysed 100 and 2 days ago (before the deployment), and once since; beta never.
      expect(report.scores).toEqual([
        expect.objectContaining({ before: expect.objectContaining({ score: 70 }), after: null, afterState: 'not-analysed-since', change: null }),
        expect.objectContaining({ before: null, after: null, afterState: 'not-analysed-since' }),
      ]);
    });

    test('Markdown by Accept or ?format=md: every section, hostile text escaped, logs fenced and trimmed', async () => {
      const byAccept = await get(`/patches/${handWritten}/report`).set('Accept', 'text/markdown');
      const byFormat = await get(`/patches/${handWritten}/report?format=md`).set('Accept', 'application/json');
      for (const res of [byAccept, byFormat]) {
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('text/markdown; charset=utf-8');
      }
      const markdown = byAccept.text;
      if (process.env.SHOW_REPORT) console.log(markdown);
      for (const heading of ['# Patch report: ', '## What changed', '## Why', '## Tests', '## Approval', '## Rollout', '## Score', '## Diffs']) expect(markdown).toContain(`\n${heading}`.trimStart());
      expect(markdown).toContain('# Patch report: Pin \\`perms\\` \\| &lt;script&gt;alert(1)&lt;/script&gt; \\[x\\](javascript:alert(1))');
      expect(outsideCodeBlocks(markdown)).not.toContain('<');
      for (const hidden of ['\u001b', '\u202e']) expect(markdown).not.toContain(hidden);
      expect(markdown).toContain(`[patch\\-${handWritten.replace(/-/g, '\\-')}](http://ui.example:8233/namespaces/team%20space/workflows/patch-${handWritten})`);
      // The log holds a run of six backticks: its fence has seven, and the log's end is inside it.
      expect(markdown).toContain('```````text\n');
      expect(markdown).toContain('error: [31mfailed[0m evil\n``````\nstill inside | <img src=x onerror=alert(1)>\nthe end\n```````\n');
      expect(markdown).toContain('_Trimmed: the last');
      expect(markdown).toContain('| `regression` | **failed** |');
      expect(markdown).toContain('| \\.github/workflows/ci\\.yml build | `broken` | make \\`test\\` |');
      expect(markdown).toContain('| \\.github/workflows/ci\\.yml docker | `not-runnable` | uses a container |');
      expect(markdown).toContain('- changes permissions: \\| &lt;b&gt;');
      expect(markdown).toContain('| org/beta\\|\\`&lt;b&gt;\\` |');
      expect(markdown).toContain('Required: 1 Guardian approval(s)');
      expect(markdown).toContain('not analysed since');
      expect(byFormat.text.replace(/_Generated .*_/, '')).toBe(markdown.replace(/_Generated .*_/, ''));
    });

    test('why: the findings a generated patch resolves, linked to their rule docs', async () => {
      const json = await get(`/patches/${generated}/report`);
      expect(json.body.findings).toEqual([expect.objectContaining({ ruleId: 'missing-job-timeout', docs: 'docs/rules.md#missing-job-timeout', target: { id: targets[0]?.id, name: 'org/alpha' } })]);
      expect(json.body.changes.diffs).toEqual([expect.objectContaining({ target: { id: targets[0]?.id, name: 'org/alpha' }, baseCommit: 'a'.repeat(40) })]);
      const markdown = (await get(`/patches/${generated}/report?format=md`)).text;
      expect(markdown).toContain('[missing\\-job\\-timeout](docs/rules.md#missing-job-timeout)');
      expect(markdown).toContain('Job \\`build\\` \\| has no &lt;timeout&gt;');
      expect(markdown).toContain('Nothing was deployed.');
      expect(markdown).toContain('not deployed');
      expect(outsideCodeBlocks(markdown)).not.toContain('<');
    });

    test('a distinct-groups quorum counts approvers as the lifecycle does: two of one group count once', async () => {
      const id = await storedPatch({}, { quorum: 2, timeoutSeconds: 3600, distinctGroups: true, reasons: ['changes permissions'] });
      const at = new Date().toISOString();
      await saveApproval(api.db.pool, id, { guardian: 'sam', decision: 'approved', comment: null, at, groups: ['sre'] });
      await saveApproval(api.db.pool, id, { guardian: 'sue', decision: 'approved', comment: null, at, groups: ['sre'] });
      expect((await get(`/patches/${id}/report`)).body.approval).toMatchObject({ quorum: 2, distinctGroups: true, approvals: 1, quorumMet: false });
      expect((await get(`/patches/${id}/report?format=md`)).text).toContain('Required: 2 Guardian approval(s), each from a group not yet represented within 1 h 0 min; 1 counted, quorum not met.');
      await saveApproval(api.db.pool, id, { guardian: 'sec', decision: 'approved', comment: null, at, groups: ['security'] });
      expect((await get(`/patches/${id}/report`)).body.approval).toMatchObject({ approvals: 2, quorumMet: true });
    });

    test('a huge diff is trimmed and the Markdown stays under the pull request body limit', async () => {
      const hunk = Array.from({ length: 20_000 }, (_, index) => `+line ${index} with \`\`\` and | and <b>`).join('\n');
      const diff = `diff --git a/big.yml b/big.yml\n--- a/big.yml\n+++ b/big.yml\n@@ -0,0 +1,20000 @@\n${hunk}\n`;
      const id = await storedPatch({ diff, title: 'big' });
      const json = (await get(`/patches/${id}/report`)).body;
      expect(json.changes.total).toEqual({ filesChanged: 1, linesAdded: 20_000, linesRemoved: 0 });
      expect(json.changes.diffs[0].diff).toMatchObject({ truncated: true, totalChars: diff.length });
      const markdown = (await get(`/patches/${id}/report?format=md`)).text;
      expect(markdown.length).toBeLessThanOrEqual(60_000);
      expect(markdown).toContain('_Trimmed: the first');
      expect(outsideCodeBlocks(markdown)).not.toContain('<');
    });

    test('an unknown patch: 404; a malformed id: 400', async () => {
      const unknown = await get(`/patches/${randomUUID()}/report`);
      expect(unknown.status).toBe(404);
      expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((await get('/patches/not-a-uuid/report')).status).toBe(400);
    });
  });

  describe('content negotiation', () => {
    test.each([
      ['text/*', /^text\/markdown/],
      ['*/*', /^application\/json/],
      ['application/json;q=0, text/markdown', /^text\/markdown/],
      ['text/html, application/xhtml+xml, */*;q=0.8', /^application\/json/],
    ])('Accept %s', async (accept, type) => {
      const res = await get('/reports/fleet').set('Accept', accept);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(type);
    });

    test.each(['image/png', 'text/html', 'application/xml, text/plain', 'text/markdown;q=0, application/json;q=0'])('Accept %s: 406 naming the forms', async (accept) => {
      for (const path of ['/reports/fleet', `/patches/${handWritten}/report`]) {
        const res = await get(path).set('Accept', accept);
        expect(res.status).toBe(406);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body.detail).toContain('application/json or text/markdown');
        expect(res.body.acceptable).toEqual(['application/json', 'text/markdown']);
      }
    });

    test.each([
      ['?format=xml', 'The query parameter format must be json or md.'],
      ['?format=md&format=json', 'The query parameter format must be json or md.'],
      ['?fromat=md', 'query'],
    ])('%s: 400 naming the parameter', async (query, message) => {
      const res = await get(`/reports/fleet${query}`);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toContain(message);
    });

    test('hostile query strings and Accept headers: never a 5xx, refusals are problems', async () => {
      const hostile = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.constantFrom('\u0000', '%00', '%ff', '%', '\r\n', 'md\u0000', ';q=abc', '*/*;q=-1', 'text/markdown;q=1e999', 'a'.repeat(4000), '../', '${jndi:x}', ',,,,', 'text/markdown;charset=\u202e'),
      );
      await fc.assert(
        fc.asyncProperty(hostile, hostile, fc.constantFrom('/reports/fleet', `/patches/${handWritten}/report`, '/reports/scores', `/targets/${targets[0]?.id}/scores`), async (query, accept, path) => {
          const url = `/api/v1${path}?${encodeURIComponent(query)}=${encodeURIComponent(accept)}&format=${encodeURIComponent(query)}&days=${encodeURIComponent(accept)}`;
          let req = request(api.app).get(url).set('Authorization', `Bearer ${viewer}`);
          // Headers cannot carry line breaks or NUL: Node refuses those before they are sent.
          if ([...accept].every((character) => character >= ' ' && character <= '~')) req = req.set('Accept', accept);
          const res = await req;
          expect(res.status).toBeLessThan(500);
          // Over 16 KiB of request line and headers, Node answers 431 itself, before the app sees the request.
          if (res.status >= 400 && res.status !== 431) expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        }),
        { numRuns: 150 },
      );
    }, 120_000);
  });

  describe('GET /reports/fleet', () => {
    test('JSON: scores and trends, open findings, patches by status, rollouts, rollback times', async () => {
      const res = await get('/reports/fleet');
      expect(res.status).toBe(200);
      const report = res.body as FleetReport;
      const alpha = report.targets.find((row) => row.target.name === 'org/alpha');
      expect(alpha).toMatchObject({ score: { score: 70 }, previousScore: { score: 70 }, trend: 0, openFindings: { total: 2, bySeverity: { high: 1, medium: 1 }, byCategory: { security: 1, efficiency: 1 } }, deployments: { kept: 0, reverted: 1, failed: 0 } });
      expect(report.targets.find((row) => row.target.name === 'org/beta|`<b>`')).toMatchObject({ score: null, trend: null, openFindings: { total: 0 } });
      expect(report.openFindings.byCategoryAndSeverity.security.high).toBe(1);
      expect(report.patches.byStatus).toMatchObject({ rolled_back: 1, pending: 3 });
      expect(report.rollouts).toEqual({ ended: 1, deployed: 0, rolledBack: 1, failed: 0, cancelled: 0, successRate: 0 });
      // The failing sample 30 s ago, the rollback completed 10 s ago.
      expect(report.rollbacks).toMatchObject({ rolledBack: 1, measured: 1, targetsReverted: 2 });
      expect(report.rollbacks.meanSecondsToRollback).toBeCloseTo(20, 0);
    });

    test('Markdown: every section, target names escaped', async () => {
      const markdown = (await get('/reports/fleet').set('Accept', 'text/markdown')).text;
      for (const heading of ['# Fleet report', '## Targets', '## Open findings', '## Patches', '## Rollouts and rollbacks']) expect(markdown).toContain(heading);
      expect(markdown).toContain('| org/beta\\|\\`&lt;b&gt;\\` | not analysed |');
      expect(markdown).toContain('| org/alpha | 70 | = 0 |');
      expect(outsideCodeBlocks(markdown)).not.toContain('<');
      expect(markdown).toContain('Deployment success rate: 0.0 %');
      expect(markdown).toMatch(/Mean time from a failing health sample to a completed rollback: \d+\.\d s \(over 1 rollback\(s\)\)/);
    });
  });

  describe('score history', () => {
    test('a target: one point per day within the window, oldest first', async () => {
      const alpha = targets[0] as Target;
      const recent = await get(`/targets/${alpha.id}/scores`);
      expect(recent.status).toBe(200);
      expect(recent.body).toMatchObject({ targetId: alpha.id, target: 'org/alpha', days: 90 });
      // Analyses 2 and 1 days ago (and the one 100 days ago is outside the 90 days).
      expect((recent.body.points as DailyScore[]).map((point) => point.score)).toEqual([70, 70]);
      const year = await get(`/targets/${alpha.id}/scores?days=365`);
      expect((year.body.points as DailyScore[]).map((point) => point.score)).toEqual([60, 70, 70]);
      const days = (year.body.points as DailyScore[]).map((point) => point.day);
      expect(days).toEqual([...days].sort());
      expect(days[0]).toBe(new Date(Date.now() - 100 * DAY_MS).toISOString().slice(0, 10));
    });

    test('the fleet: every target, with or without points', async () => {
      const res = await get('/reports/scores?days=365');
      expect(res.status).toBe(200);
      expect((res.body.targets as TargetScoreHistory[]).map((entry) => [entry.target, entry.points.length])).toEqual([['org/alpha', 3], ['org/beta|`<b>`', 0]]);
    });

    test.each(['0', '366', 'abc', '1.5', '-1', '', '1e2', ' 90'])('days=%j: 400 naming the parameter', async (days) => {
      for (const path of ['/reports/scores', `/targets/${targets[0]?.id}/scores`]) {
        const res = await get(`${path}?days=${encodeURIComponent(days)}`);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body.detail).toMatch(/^The query parameter days /);
      }
    });

    test('an unknown target: 404', async () => {
      expect((await get(`/targets/${randomUUID()}/scores`)).status).toBe(404);
    });
  });

  test.each(['/reports/fleet', '/reports/scores', '/patches/{patch}/report', '/targets/{target}/scores'])('%s: 401 without a token, 403 without the viewer role', async (path) => {
    const url = `/api/v1${path.replace('{patch}', handWritten).replace('{target}', targets[0]?.id ?? '')}`;
    expect((await request(api.app).get(url)).status).toBe(401);
    expect((await get(path.replace('{patch}', handWritten).replace('{target}', targets[0]?.id ?? ''), nobody)).status).toBe(403);
  });
});
