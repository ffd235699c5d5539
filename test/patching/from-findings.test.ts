/**
 * Patches generated from findings over real git remotes, the real analysis activity, the real fixer and a real
 * database: which analyses are accepted, one diff per target at its analysis's commit, targets left out with their
 * reason, and the words (title, description with rule doc links, patch type) made from the findings.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config';
import type { ResolvedFinding, Target } from '../../src/domain/types';
import { applyDiff, checkout, disposeCheckout } from '../../src/git';
import {
  type FindingSource,
  type GenerationEnvironment,
  generatedDescription,
  generatedTitle,
  generateTargetDiffs,
  loadFindingSources,
  PatchGenerationRefused,
  patchTypeFor,
} from '../../src/patching/from-findings';
import { failAnalysis, startAnalysis } from '../../src/store/analyses';
import { createTarget } from '../../src/store/targets';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { NO_ACTION_REPOSITORIES } from '../support/git-fixtures';
import { analyzeIntoStore } from '../support/findings';
import { CI_PATH, type Edits, TestRemote } from '../git/remote-fixture';

const TIMEOUTS = { ruleIds: ['missing-job-timeout'], unsafe: true };
/** A workflow whose only job already has a timeout: nothing for missing-job-timeout to fix. */
const TIMED_WORKFLOW = ['name: CI', 'on: [push]', 'permissions:', '  contents: read', 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    timeout-minutes: 10', '    steps:', '      - run: make', ''].join('\n');

function resolved(overrides: Partial<ResolvedFinding>): ResolvedFinding {
  return { ruleId: 'missing-job-timeout', fingerprint: 'f'.repeat(64), category: 'efficiency', severity: 'low', file: CI_PATH, line: 8, column: 3, message: 'm', fix: 'Add timeout-minutes', safety: 'unsafe', docs: 'docs/rules.md#missing-job-timeout', ...overrides };
}

describe('patches from findings', () => {
  let db: TestDatabase;
  const remotes: TestRemote[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const remote of remotes) remote.dispose();
    await db.drop();
  });

  async function analyzedTarget(files?: Edits): Promise<{ remote: TestRemote; target: Target; analysisId: string; commitSha: string; env: GenerationEnvironment }> {
    const remote = new TestRemote(files);
    remotes.push(remote);
    const target = await createTarget(db.pool, { name: `org/ff-${randomUUID().slice(0, 8)}`, repoUrl: remote.bare, branch: 'main', healthChecks: [], verifyCommand: null, createdBy: 'test' });
    const config = loadConfig({ DATA_DIR: remote.root, ALLOW_LOCAL_REPOS: 'true' });
    const analysis = await analyzeIntoStore(db, config, target);
    return { remote, target, analysisId: analysis.id, commitSha: analysis.commitSha, env: { workRoot: remote.workRoot, git: { repoUrlPolicy: { allowLocal: true } }, actions: NO_ACTION_REPOSITORIES } };
  }

  async function refusal(promise: Promise<unknown>): Promise<PatchGenerationRefused> {
    const error = await promise.then(() => undefined, (caught: unknown) => caught);
    if (!(error instanceof PatchGenerationRefused)) throw new Error(`expected a refusal, got ${String(error)}`);
    return error;
  }

  test('one diff per target, made at the commit its analysis saw even after the branch moved, that resolves the findings', async () => {
    const first = await analyzedTarget();
    const second = await analyzedTarget();
    // Someone pushes after the analysis: the diff is still made at (and applies to) the analysed commit.
    second.remote.commit({ 'README.md': 'moved on\n' }, 'docs');
    const sources = await loadFindingSources(db.pool, { analysisIds: [first.analysisId, second.analysisId], ...TIMEOUTS });
    const { diffs, skipped } = await generateTargetDiffs(sources, TIMEOUTS, first.env);
    expect(skipped).toEqual([]);
    expect(diffs.map((entry) => [entry.targetId, entry.analysisId, entry.analysisCommit])).toEqual([
      [first.target.id, first.analysisId, first.commitSha],
      [second.target.id, second.analysisId, second.commitSha],
    ]);
    for (const entry of diffs) {
      expect(entry.diff).toContain(`+++ b/${CI_PATH}`);
      expect(entry.diff).toMatch(/\+ {4}timeout-minutes: \d+\n/);
      expect(entry.findings).toEqual([expect.objectContaining({ ruleId: 'missing-job-timeout', file: CI_PATH, safety: 'unsafe', docs: 'docs/rules.md#missing-job-timeout', fix: expect.any(String) })]);
      expect(entry.selection).toEqual(TIMEOUTS);
    }
    const clone = await checkout(second.remote.bare, 'main', second.remote.workRoot, second.env.git);
    try {
      await expect(applyDiff(clone.dir, diffs[1]?.diff ?? '')).resolves.toBeUndefined();
    } finally {
      await disposeCheckout(clone.dir);
    }
  });

  test('targets with nothing to fix are left out with the reason; unsafe fixes need the flag', async () => {
    const fixable = await analyzedTarget();
    const timed = await analyzedTarget({ [CI_PATH]: TIMED_WORKFLOW });
    const sources = await loadFindingSources(db.pool, { analysisIds: [fixable.analysisId, timed.analysisId], ...TIMEOUTS });
    const both = await generateTargetDiffs(sources, TIMEOUTS, fixable.env);
    expect(both.diffs.map((entry) => entry.targetId)).toEqual([fixable.target.id]);
    expect(both.skipped).toEqual([{ targetId: timed.target.id, target: timed.target.name, reason: expect.stringMatching(/no (fixable )?finding/) }]);
    const safeOnly = await generateTargetDiffs(sources.slice(0, 1), { ruleIds: ['missing-job-timeout'], unsafe: false }, fixable.env);
    expect(safeOnly.diffs).toEqual([]);
    expect(safeOnly.skipped[0]?.reason).toContain('fromFindings.unsafe');
  });

  test('only the given fingerprints are fixed; fingerprints of no analysis are refused', async () => {
    const twoJobs = ['on: push', 'permissions: {}', 'jobs:', '  a:', '    runs-on: ubuntu-latest', '    steps:', '      - run: make a', '  b:', '    runs-on: ubuntu-latest', '    steps:', '      - run: make b', ''].join('\n');
    const subject = await analyzedTarget({ [CI_PATH]: twoJobs });
    const sources = await loadFindingSources(db.pool, { analysisIds: [subject.analysisId], ...TIMEOUTS });
    const timeouts = (sources[0] as FindingSource).findings.filter((finding) => finding.ruleId === 'missing-job-timeout');
    expect(timeouts).toHaveLength(2);
    const selection = { ...TIMEOUTS, fingerprints: [timeouts[1]?.fingerprint ?? ''] };
    const { diffs } = await generateTargetDiffs(await loadFindingSources(db.pool, { analysisIds: [subject.analysisId], ...selection }), selection, subject.env);
    expect(diffs[0]?.findings.map((finding) => finding.fingerprint)).toEqual([timeouts[1]?.fingerprint]);
    expect(diffs[0]?.diff.match(/timeout-minutes/g)).toHaveLength(1);
    const unknown = await refusal(loadFindingSources(db.pool, { analysisIds: [subject.analysisId], unsafe: true, fingerprints: ['a'.repeat(64)] }));
    expect(unknown.details).toEqual({ unknownFingerprints: ['a'.repeat(64)] });
  });

  test('unknown, unfinished and failed analyses and two analyses of one target are refused with what is wrong', async () => {
    const subject = await analyzedTarget();
    const missing = randomUUID();
    expect((await refusal(loadFindingSources(db.pool, { analysisIds: [subject.analysisId, missing], unsafe: false }))).details).toEqual({ missingAnalyses: [missing] });
    const running = randomUUID();
    await startAnalysis(db.pool, { id: running, targetId: subject.target.id, requestedBy: 'test' });
    const stillRunning = await refusal(loadFindingSources(db.pool, { analysisIds: [running], unsafe: false }));
    expect(stillRunning.message).toContain(`${running} is still running`);
    const failed = randomUUID();
    await startAnalysis(db.pool, { id: failed, targetId: subject.target.id, requestedBy: 'test' });
    await failAnalysis(db.pool, failed, 'clone failed');
    expect((await refusal(loadFindingSources(db.pool, { analysisIds: [failed], unsafe: false }))).message).toContain('failed (clone failed)');
    const again = await analyzeIntoStore(db, loadConfig({ DATA_DIR: subject.remote.root, ALLOW_LOCAL_REPOS: 'true' }), subject.target);
    const duplicate = await refusal(loadFindingSources(db.pool, { analysisIds: [subject.analysisId, again.id], unsafe: false }));
    expect(duplicate.message).toContain('one analysis per target');
    expect(duplicate.details).toEqual({ duplicateTargets: [{ targetId: subject.target.id, target: subject.target.name, analysisIds: [subject.analysisId, again.id] }] });
  });

  test('the patch type is that of the most severe finding\'s category; title and description name the findings and link their rules', () => {
    expect(patchTypeFor([resolved({})])).toBe('refactor');
    expect(patchTypeFor([resolved({ category: 'compatibility' })])).toBe('bug_fix');
    expect(patchTypeFor([resolved({ category: 'quality' })])).toBe('refactor');
    expect(patchTypeFor([resolved({}), resolved({ category: 'security', severity: 'medium' }), resolved({ category: 'performance', severity: 'low' })])).toBe('security');
    expect(patchTypeFor([resolved({ category: 'security', severity: 'low' }), resolved({ category: 'performance', severity: 'high' })])).toBe('performance');
    const target = { id: randomUUID(), name: 'org/one' } as Target;
    const diffs = [
      { target, targetId: target.id, analysisId: randomUUID(), analysisCommit: 'c'.repeat(40), diff: 'd', selection: { unsafe: true }, findings: [resolved({ message: 'Job "build" has no timeout' }), resolved({ line: 20 })], files: [] },
    ];
    expect(generatedTitle(diffs)).toBe('Fix 2 missing-job-timeout findings on 1 target');
    const description = generatedDescription(diffs, [{ targetId: randomUUID(), target: 'org/two', reason: 'no fixable finding matches the selection' }]);
    expect(description).toContain('[`missing-job-timeout`](docs/rules.md#missing-job-timeout)');
    expect(description).toContain('Job "build" has no timeout');
    expect(description).toContain(`**org/one** at ${'c'.repeat(12)}`);
    expect(description).toContain('- org/two: no fixable finding matches the selection');
    expect(generatedTitle([{ ...diffs[0], findings: [resolved({}), resolved({ ruleId: 'checkout-persisted-credentials' }), resolved({ ruleId: 'unpinned-action' })] } as (typeof diffs)[number]])).toBe(
      'Fix 3 findings (checkout-persisted-credentials, missing-job-timeout, +1 more rules) on 1 target',
    );
  });
});
