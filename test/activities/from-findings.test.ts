/**
 * The lifecycle activities on patches generated from findings, in the SDK's activity context over a real database,
 * real git remotes and the real fixer: each target is tested and deployed with its own diff, the isolated stage
 * checks the claimed findings are gone and nothing new appeared, and a branch that moved gets its diff made again
 * (or its test fails when nothing of the patch applies any more).
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { createPatchActivities, type PatchActivities } from '../../src/activities/patches';
import { loadConfig } from '../../src/config';
import type { PatchSpec, ResolvedFinding, Target } from '../../src/domain/types';
import { generateTargetDiffs, loadFindingSources } from '../../src/patching/from-findings';
import { NO_ACTION_REPOSITORIES } from '../support/git-fixtures';
import { createPatch, getPatch } from '../../src/store/patches';
import { getTargetDiff, saveTargetDiffs } from '../../src/store/patch-target-diffs';
import { createTarget } from '../../src/store/targets';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { analyzeIntoStore } from '../support/findings';
import { CI_PATH, CI_WORKFLOW, git, TestRemote } from '../git/remote-fixture';

const TIMEOUTS = { ruleIds: ['missing-job-timeout'], unsafe: true };

/** A diff's file headers and added and removed lines: what two diffs of the same change share. */
function changedLines(diff: string): string[] {
  return diff.split('\n').filter((line) => /^[-+]/.test(line));
}

describe('lifecycle activities on patches generated from findings', () => {
  let db: TestDatabase;
  let remote: TestRemote;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(() => {
    remote = new TestRemote();
  });
  afterEach(() => remote.dispose());

  const config = () => loadConfig({ DATA_DIR: remote.root, ALLOW_LOCAL_REPOS: 'true' });

  function run<O>(call: (activities: PatchActivities) => Promise<O>): Promise<O> {
    const environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const activities = createPatchActivities({ config: config(), pool: db.pool, logger: pino({ level: 'silent' }) });
    return environment.run(() => call(activities));
  }

  /** A target analysed at its tip and a stored patch with the generated diff (or `diff`, claiming the findings). */
  async function generatedPatch(override?: { diff: string }): Promise<{ target: Target; spec: PatchSpec; claims: ResolvedFinding[]; analysisCommit: string }> {
    const target = await createTarget(db.pool, { name: `org/gen-${randomUUID().slice(0, 8)}`, repoUrl: remote.bare, branch: 'main', healthChecks: [], verifyCommand: null, createdBy: 'test' });
    const analysis = await analyzeIntoStore(db, config(), target);
    const sources = await loadFindingSources(db.pool, { analysisIds: [analysis.id], ...TIMEOUTS });
    const { diffs } = await generateTargetDiffs(sources, TIMEOUTS, { workRoot: remote.workRoot, git: { repoUrlPolicy: { allowLocal: true } }, actions: NO_ACTION_REPOSITORIES });
    const { target: _target, ...generated } = diffs[0] ?? (() => { throw new Error('nothing generated'); })();
    const entry = { ...generated, ...override };
    const spec: PatchSpec = {
      id: randomUUID(),
      title: 'Fix 1 missing-job-timeout finding on 1 target',
      type: 'refactor',
      description: null,
      author: 'olga',
      diff: `# ${target.name}\n${entry.diff}`,
      targets: [target],
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 30, windowSeconds: 300, failureThreshold: 1 }, allowUnmonitored: true, parallelism: 1 },
      approval: { quorum: 1, timeoutSeconds: 3600 },
    };
    const client = await db.pool.connect();
    try {
      await createPatch(client, { ...spec, workflowId: `patch-${spec.id}` });
      await saveTargetDiffs(client, spec.id, [entry]);
    } finally {
      client.release();
    }
    return { target, spec, claims: entry.findings, analysisCommit: analysis.commitSha };
  }

  const isolated = (spec: PatchSpec, target: Target) => run((a) => a.testTarget({ patchId: spec.id, stage: 'isolated', target, diffSha256: 'unused-for-generated-patches' }));
  const storedTest = async (spec: PatchSpec) => (await getPatch(db.pool, spec.id))?.tests.find((test) => test.stage === 'isolated');

  it('tests a target with its own diff: the claimed findings are gone and nothing new, both lists in the stored result', async () => {
    const { target, spec, claims } = await generatedPatch();
    const verdict = await isolated(spec, target);
    expect(verdict).toMatchObject({ passed: true, summary: expect.stringContaining('1 of 1 claimed finding(s) resolved') });
    const details = (await storedTest(spec))?.details;
    expect(details).toMatchObject({ resolvedFindings: [expect.objectContaining({ fingerprint: claims[0]?.fingerprint, ruleId: 'missing-job-timeout' })], unresolvedFindings: [], newFindings: [] });
    expect(details?.regenerated).toBeUndefined();
  });

  it('fails the isolated stage when a claimed finding stays or a finding at medium or above appears', async () => {
    // Claims the timeout fix but adds a job checking out with persisted credentials (medium) and no timeout instead.
    const job = ['  other:', '    runs-on: ubuntu-latest', '    steps:', '      - uses: actions/checkout@v4', ''].join('\n');
    const diff = remote.diffFor({ [CI_PATH]: `${CI_WORKFLOW}${job}` });
    const { target, spec, claims } = await generatedPatch({ diff });
    const verdict = await isolated(spec, target);
    expect(verdict.passed).toBe(false);
    expect(verdict.summary).toContain('after the patch');
    const details = (await storedTest(spec))?.details as { unresolvedFindings: Array<{ fingerprint: string }>; newFindings: Array<{ ruleId: string; severity: string }> };
    expect(details.unresolvedFindings.map((finding) => finding.fingerprint)).toEqual([claims[0]?.fingerprint]);
    expect(details.newFindings.length).toBeGreaterThan(0);
    expect(details.newFindings.every((finding) => ['medium', 'high', 'critical'].includes(finding.severity))).toBe(true);
  });

  it('makes the diff again at the new tip when the branch moved, tests and deploys that one', async () => {
    const { target, spec, analysisCommit } = await generatedPatch();
    const before = await getTargetDiff(db.pool, spec.id, target.id);
    // Someone adds a step above the job's steps: the old diff's context is gone.
    const moved = remote.commit({ [CI_PATH]: CI_WORKFLOW.replace('    steps:\n', '    env:\n      CI: "true"\n    steps:\n') }, 'ci: set CI');
    const verdict = await isolated(spec, target);
    expect(verdict).toMatchObject({ passed: true });
    const stored = await getTargetDiff(db.pool, spec.id, target.id);
    expect(stored).toMatchObject({ analysisCommit, baseCommit: moved, regeneratedFrom: analysisCommit, regeneratedAt: expect.any(String) });
    expect(stored?.diff).not.toBe(before?.diff);
    expect((await storedTest(spec))?.details).toMatchObject({ regenerated: { from: analysisCommit, to: moved, findings: 1 }, commitSha: moved });
    // The next stage finds the diff made at the tip and uses it as it is.
    expect(await run((a) => a.testTarget({ patchId: spec.id, stage: 'safety', target, diffSha256: 'unused' }))).toMatchObject({ passed: true });
    expect((await getTargetDiff(db.pool, spec.id, target.id))?.regeneratedFrom).toBe(analysisCommit);
    const deployed = await run((a) => a.deployTarget({ patchId: spec.id, title: spec.title, target, wave: 1, approvedBy: ['gus'], diffSha256: 'unused' }));
    expect(deployed.previousCommit).toBe(moved);
    expect(changedLines(git(remote.bare, 'diff', moved, deployed.commitSha))).toEqual(changedLines(stored?.diff ?? ''));
    expect(remote.fileAt(CI_PATH)).toMatch(/timeout-minutes: \d+/);
  });

  it('fails the test saying why when nothing of the patch applies at the new tip', async () => {
    const { target, spec, analysisCommit } = await generatedPatch();
    const moved = remote.commit({ [CI_PATH]: CI_WORKFLOW.replace('    steps:\n', '    timeout-minutes: 5\n    steps:\n') }, 'ci: a timeout of our own');
    const verdict = await isolated(spec, target);
    expect(verdict.passed).toBe(false);
    expect(verdict.summary).toContain(`moved from ${analysisCommit.slice(0, 12)} to ${moved.slice(0, 12)}`);
    expect(verdict.summary).toContain('nothing of the patch applies there any more');
    expect((await getTargetDiff(db.pool, spec.id, target.id))?.baseCommit).toBe(analysisCommit);
  });
});
