import { randomUUID } from 'node:crypto';
import type { PatchSpec, Target } from '../../src/domain/types';
import type { HealthSample } from '../../src/health/types';
import {
  createPatch,
  getPatch,
  LAST_SAMPLES_PER_TARGET,
  listPatches,
  recordPatchTransition,
  saveApproval,
  saveDeployment,
  KEPT_SAMPLES_PER_TARGET,
  saveHealthRound,
  saveHealthRounds,
  saveTestRuns,
} from '../../src/store/patches';
import { createTarget } from '../../src/store/targets';
import { createTestDatabase, type TestDatabase } from '../support/database';

const DIFF = '--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-hello\n+hello world\n';

function spec(targets: Target[], overrides: Partial<PatchSpec> = {}): PatchSpec & { workflowId: string } {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    workflowId: `patch-${id}`,
    title: 'ci: pin actions/checkout',
    type: 'security',
    description: null,
    author: 'alice',
    diff: DIFF,
    targets,
    rollout: { waves: [{ percent: 50 }, { percent: 100 }], health: { intervalSeconds: 30, windowSeconds: 300, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 2 },
    approval: { quorum: 1, timeoutSeconds: 3600 },
    ...overrides,
  };
}

function sample(ok: boolean, at: string, extra: Partial<HealthSample> = {}): HealthSample {
  return { ok, checkType: 'http', check: 'GET http://health/{target}', detail: ok ? 'status 200' : 'expected status 200, got 503', latencyMs: 12, status: ok ? 200 : 503, at, ...extra };
}

describe('patch read model', () => {
  let db: TestDatabase;
  let alpha: Target;
  let beta: Target;
  beforeAll(async () => {
    db = await createTestDatabase();
    const target = (name: string): Promise<Target> =>
      createTarget(db.pool, { name, repoUrl: `/srv/${name}.git`, branch: 'main', healthChecks: [], verifyCommand: null, createdBy: 'admin' });
    [beta, alpha] = await Promise.all([target('org/beta'), target('org/alpha')]);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('creates a pending patch and reads it back with nothing recorded yet', async () => {
    const created = await createPatch(db.pool, spec([alpha, beta]));
    expect(created).toMatchObject({ status: 'pending', statusReason: null, targetIds: [alpha.id, beta.id], workflowId: `patch-${created.id}` });
    expect(created.diffSha256).toMatch(/^[0-9a-f]{64}$/);
    const detail = await getPatch(db.pool, created.id);
    expect(detail).toMatchObject({
      ...created,
      diff: DIFF,
      targets: [{ id: alpha.id, name: 'org/alpha' }, { id: beta.id, name: 'org/beta' }],
      tests: [],
      approvals: [],
      deployments: [],
      transitions: [],
    });
    expect(JSON.parse(JSON.stringify(detail))).toEqual(detail);
  });

  it('answers undefined for unknown and malformed ids', async () => {
    expect(await getPatch(db.pool, randomUUID())).toBeUndefined();
    expect(await getPatch(db.pool, 'not-a-uuid')).toBeUndefined();
  });

  it('lists newest first, filtered by status and target', async () => {
    const first = await createPatch(db.pool, spec([alpha]));
    const second = await createPatch(db.pool, spec([beta]));
    await recordPatchTransition(db.pool, { patchId: second.id, seq: 1, from: 'pending', to: 'testing', reason: null, at: new Date().toISOString() });
    const ids = async (query: Parameters<typeof listPatches>[1]): Promise<string[]> => (await listPatches(db.pool, query)).items.map((p) => p.id);
    const all = await ids({ limit: 100 });
    expect(all.indexOf(second.id)).toBeLessThan(all.indexOf(first.id));
    expect(all.indexOf(second.id)).toBeGreaterThanOrEqual(0);
    expect(await ids({ status: 'testing', limit: 100 })).toEqual([second.id]);
    const forAlpha = await ids({ targetId: alpha.id, limit: 100 });
    expect(forAlpha).toContain(first.id);
    expect(forAlpha).not.toContain(second.id);
    expect(await ids({ limit: 1 })).toHaveLength(1);
    expect(await listPatches(db.pool, { targetId: 'nope', limit: 10 })).toEqual({ items: [], next: null });
  });

  it('shows a list row without the patch details, counting its targets', async () => {
    const created = await createPatch(db.pool, spec([alpha, beta], { description: 'long words' }));
    const row = (await listPatches(db.pool, { limit: 100 })).items.find((p) => p.id === created.id);
    expect(row).toEqual({
      id: created.id,
      workflowId: created.workflowId,
      title: created.title,
      type: created.type,
      status: 'pending',
      statusReason: null,
      author: created.author,
      targetCount: 2,
      diffSha256: created.diffSha256,
      createdAt: created.createdAt,
      updatedAt: created.updatedAt,
    });
  });

  it('pages by position: patches created in the same microsecond or microseconds apart are each listed once', async () => {
    const created = await Promise.all(Array.from({ length: 7 }, () => createPatch(db.pool, spec([beta], { author: 'pager' }))));
    // Three share one instant (the id orders them); the others are a microsecond apart, which a Date cannot tell.
    const instants = ['2031-01-01 00:00:00.000001', '2031-01-01 00:00:00.000001', '2031-01-01 00:00:00.000001', '2031-01-01 00:00:00.000002',
      '2031-01-01 00:00:00.000003', '2031-01-01 00:00:00.000004', '2031-01-01 00:00:00.000005'];
    for (const [index, patch] of created.entries()) {
      await db.pool.query("UPDATE patches SET created_at = $2::timestamp AT TIME ZONE 'UTC' WHERE id = $1", [patch.id, instants[index]]);
    }
    const seen: string[] = [];
    let page = await listPatches(db.pool, { targetId: beta.id, status: 'pending', limit: 2 });
    for (;;) {
      seen.push(...page.items.filter((p) => p.author === 'pager').map((p) => p.id));
      if (!page.next) break;
      page = await listPatches(db.pool, { targetId: beta.id, status: 'pending', limit: 2, after: page.next });
    }
    expect(seen).toHaveLength(created.length);
    expect(new Set(seen)).toEqual(new Set(created.map((p) => p.id)));
    expect(page.items.length).toBeLessThanOrEqual(2);
  });

  it('keeps the newest status when transitions are retried or arrive late', async () => {
    const patch = await createPatch(db.pool, spec([alpha]));
    const at = (second: number): string => new Date(Date.UTC(2030, 0, 1, 0, 0, second)).toISOString();
    await recordPatchTransition(db.pool, { patchId: patch.id, seq: 1, from: 'pending', to: 'testing', reason: null, at: at(1) });
    await recordPatchTransition(db.pool, { patchId: patch.id, seq: 2, from: 'testing', to: 'test_failed', reason: 'isolated failed on org/alpha', at: at(2) });
    // A retry of seq 1 after seq 2 landed.
    await recordPatchTransition(db.pool, { patchId: patch.id, seq: 1, from: 'pending', to: 'testing', reason: null, at: at(1) });
    const detail = await getPatch(db.pool, patch.id);
    expect(detail).toMatchObject({ status: 'test_failed', statusReason: 'isolated failed on org/alpha', updatedAt: at(2) });
    expect(detail?.transitions).toEqual([
      { seq: 1, from: 'pending', to: 'testing', reason: null, at: at(1) },
      { seq: 2, from: 'testing', to: 'test_failed', reason: 'isolated failed on org/alpha', at: at(2) },
    ]);
  });

  it('concurrent transitions end at the highest seq', async () => {
    const patch = await createPatch(db.pool, spec([alpha]));
    const statuses = ['testing', 'awaiting_approval', 'deploying', 'deployed'] as const;
    await Promise.all(
      [...statuses.entries()].reverse().map(([index, to]) =>
        recordPatchTransition(db.pool, { patchId: patch.id, seq: index + 1, from: null, to, reason: null, at: new Date().toISOString() }),
      ),
    );
    expect((await getPatch(db.pool, patch.id))?.status).toBe('deployed');
  });

  it('stores several test runs in one call; the same stage twice keeps the last', async () => {
    const patch = await createPatch(db.pool, spec([alpha]));
    const result = (stage: 'isolated' | 'safety', passed: boolean) => ({
      patchId: patch.id, targetId: alpha.id, stage, passed, summary: `${stage} ${passed}`, log: 'log', details: {}, startedAt: new Date(1_000), finishedAt: new Date(2_000),
    });
    await saveTestRuns(db.pool, [result('isolated', false), result('safety', true), result('isolated', true)]);
    await saveTestRuns(db.pool, []);
    expect((await getPatch(db.pool, patch.id))?.tests.map((t) => [t.stage, t.passed])).toEqual([['isolated', true], ['safety', true]]);
  });

  it('stores test runs, replacing a rerun, in target then stage order', async () => {
    const patch = await createPatch(db.pool, spec([beta, alpha]));
    const run = (targetId: string, stage: 'isolated' | 'safety', passed: boolean) =>
      saveTestRuns(db.pool, [{ patchId: patch.id, targetId, stage, passed, summary: `${stage} ${passed}`, log: 'log', details: { commitSha: 'abc' }, startedAt: new Date(1_000), finishedAt: new Date(2_000) }]);
    await run(alpha.id, 'safety', true);
    await run(alpha.id, 'isolated', true);
    await run(beta.id, 'isolated', false);
    await run(beta.id, 'isolated', true);
    const tests = (await getPatch(db.pool, patch.id))?.tests;
    expect(tests?.map((t) => [t.targetId, t.stage, t.passed])).toEqual([
      [beta.id, 'isolated', true],
      [alpha.id, 'isolated', true],
      [alpha.id, 'safety', true],
    ]);
    expect(tests?.[0]).toEqual({
      stage: 'isolated', targetId: beta.id, passed: true, summary: 'isolated true', log: 'log', details: { commitSha: 'abc' },
      startedAt: new Date(1_000).toISOString(), finishedAt: new Date(2_000).toISOString(),
    });
  });

  it("stores approvals, a guardian's later decision replacing the earlier one", async () => {
    const patch = await createPatch(db.pool, spec([alpha]));
    await saveApproval(db.pool, patch.id, { guardian: 'bob', decision: 'approved', comment: null, at: new Date(1_000).toISOString() });
    await saveApproval(db.pool, patch.id, { guardian: 'carol', decision: 'approved', comment: 'lgtm', at: new Date(2_000).toISOString() });
    await saveApproval(db.pool, patch.id, { guardian: 'bob', decision: 'rejected', comment: 'wait', at: new Date(3_000).toISOString() });
    expect((await getPatch(db.pool, patch.id))?.approvals).toEqual([
      { guardian: 'carol', decision: 'approved', comment: 'lgtm', at: new Date(2_000).toISOString() },
      { guardian: 'bob', decision: 'rejected', comment: 'wait', at: new Date(3_000).toISOString() },
    ]);
  });

  it('keeps commits and first timestamps across later deployment statuses', async () => {
    const patch = await createPatch(db.pool, spec([alpha, beta]));
    const base = { patchId: patch.id, targetId: alpha.id, wave: 1 };
    await saveDeployment(db.pool, { ...base, status: 'deploying' });
    await saveDeployment(db.pool, { ...base, status: 'deployed', deployedCommit: 'c1', previousCommit: 'c0' });
    await saveDeployment(db.pool, { ...base, status: 'reverting' });
    await saveDeployment(db.pool, { ...base, status: 'revert_failed', error: 'conflict in ci.yml' });
    await saveDeployment(db.pool, { ...base, status: 'reverted', revertCommit: 'c2' });
    await saveDeployment(db.pool, { patchId: patch.id, targetId: beta.id, wave: 2, status: 'skipped' });
    const deployments = (await getPatch(db.pool, patch.id))?.deployments;
    expect(deployments?.map((d) => d.targetName)).toEqual(['org/alpha', 'org/beta']);
    expect(deployments?.[0]).toMatchObject({
      targetId: alpha.id, wave: 1, status: 'reverted', deployedCommit: 'c1', previousCommit: 'c0', revertCommit: 'c2', error: null, lastSamples: [],
    });
    expect(deployments?.[0]?.deployedAt).not.toBeNull();
    expect(deployments?.[0]?.revertedAt).not.toBeNull();
    expect(deployments?.[1]).toMatchObject({ status: 'skipped', deployedAt: null, revertedAt: null });
  });

  it('returns the last samples per target, newest last, and a retried round replaces its samples', async () => {
    const patch = await createPatch(db.pool, spec([alpha, beta]));
    await saveDeployment(db.pool, { patchId: patch.id, targetId: alpha.id, wave: 1, status: 'deployed', deployedCommit: 'c1' });
    await saveDeployment(db.pool, { patchId: patch.id, targetId: beta.id, wave: 2, status: 'deployed', deployedCommit: 'c2' });
    const at = (minute: number): string => new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();
    // Rounds restart in every wave; rounds 10+ check that keys sort as numbers.
    for (let round = 1; round <= 11; round++) {
      await saveHealthRound(db.pool, { patchId: patch.id, targetId: alpha.id, wave: 1, round, samples: [sample(true, at(round))] });
    }
    await saveHealthRound(db.pool, { patchId: patch.id, targetId: alpha.id, wave: 2, round: 1, samples: [sample(true, at(20)), sample(false, at(20), { checkType: 'command', check: 'command make', status: undefined, exitCode: 2 })] });
    await saveHealthRound(db.pool, { patchId: patch.id, targetId: beta.id, wave: 2, round: 1, samples: [sample(false, at(20))] });
    await saveHealthRound(db.pool, { patchId: patch.id, targetId: beta.id, wave: 2, round: 1, samples: [sample(true, at(21))] });
    await saveHealthRound(db.pool, { patchId: patch.id, targetId: beta.id, wave: 2, round: 2, samples: [] });

    const [alphaDeployment, betaDeployment] = (await getPatch(db.pool, patch.id))?.deployments ?? [];
    expect(alphaDeployment?.lastSamples).toHaveLength(LAST_SAMPLES_PER_TARGET);
    expect(alphaDeployment?.lastSamples.map((s) => s.at)).toEqual([at(9), at(10), at(11), at(20), at(20)]);
    expect(alphaDeployment?.lastSamples.at(-1)).toEqual({ ok: false, checkType: 'command', check: 'command make', detail: 'expected status 200, got 503', latencyMs: 12, exitCode: 2, at: at(20) });
    expect(betaDeployment?.lastSamples).toEqual([sample(true, at(21))]);
  });

  it('stores a round of many targets with one call: the same rows as one call per target, trimmed per target, a repeated key keeping the last', async () => {
    const patch = await createPatch(db.pool, spec([alpha, beta]));
    const at = (second: number): string => new Date(Date.UTC(2030, 0, 1) + second * 1000).toISOString();
    // Alpha already holds KEPT_SAMPLES_PER_TARGET samples; the batch adds 3 more for it (one key twice) and 2 for beta.
    await saveHealthRounds(db.pool, [{ patchId: patch.id, targetId: alpha.id, wave: 1, round: 1, samples: Array.from({ length: KEPT_SAMPLES_PER_TARGET }, (_, index) => sample(true, at(index))) }]);
    await saveHealthRounds(db.pool, [
      { patchId: patch.id, targetId: alpha.id, wave: 1, round: 2, samples: [sample(false, at(5_000)), sample(true, at(5_001)), sample(true, at(5_002))] },
      { patchId: patch.id, targetId: beta.id, wave: 1, round: 2, samples: [sample(true, at(5_000)), sample(true, at(5_001))] },
      { patchId: patch.id, targetId: alpha.id, wave: 1, round: 2, samples: [sample(true, at(5_003))] },
      { patchId: patch.id, targetId: beta.id, wave: 1, round: 3, samples: [] },
    ]);
    const rows = async (targetId: string): Promise<Array<{ sample_key: string; ok: boolean; sampled_at: Date }>> =>
      (await db.pool.query<{ sample_key: string; ok: boolean; sampled_at: Date }>('SELECT sample_key, ok, sampled_at FROM health_samples WHERE patch_id = $1 AND target_id = $2 ORDER BY sampled_at DESC', [patch.id, targetId])).rows;
    const alphaRows = await rows(alpha.id);
    expect(alphaRows).toHaveLength(KEPT_SAMPLES_PER_TARGET);
    expect(alphaRows.slice(0, 3).map((row) => [row.sample_key, row.ok, row.sampled_at.toISOString()])).toEqual([
      ['1:2:0', true, at(5_003)], ['1:2:2', true, at(5_002)], ['1:2:1', true, at(5_001)],
    ]);
    expect(alphaRows.at(-1)?.sampled_at.toISOString()).toBe(at(3));
    expect((await rows(beta.id)).map((row) => row.sample_key)).toEqual(['1:2:1', '1:2:0']);
  });

  it('keeps only the newest KEPT_SAMPLES_PER_TARGET samples of a target', async () => {
    const patch = await createPatch(db.pool, spec([alpha, beta]));
    const at = (second: number): string => new Date(Date.UTC(2030, 0, 1) + second * 1000).toISOString();
    const rounds = Math.ceil(KEPT_SAMPLES_PER_TARGET / 50) + 2;
    for (let round = 1; round <= rounds; round++) {
      const samples = Array.from({ length: 50 }, (_, index) => sample(true, at(round * 100 + index)));
      await saveHealthRound(db.pool, { patchId: patch.id, targetId: alpha.id, wave: 1, round, samples });
    }
    await saveHealthRound(db.pool, { patchId: patch.id, targetId: beta.id, wave: 1, round: 1, samples: [sample(true, at(1))] });
    const count = async (targetId: string): Promise<number> =>
      Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM health_samples WHERE patch_id = $1 AND target_id = $2', [patch.id, targetId])).rows[0]?.n);
    expect(await count(alpha.id)).toBe(KEPT_SAMPLES_PER_TARGET);
    expect(await count(beta.id)).toBe(1);
    const { rows } = await db.pool.query<{ newest: Date }>('SELECT max(sampled_at) AS newest FROM health_samples WHERE patch_id = $1 AND target_id = $2', [patch.id, alpha.id]);
    expect(rows[0]?.newest.toISOString()).toBe(at(rounds * 100 + 49));
  });
});
