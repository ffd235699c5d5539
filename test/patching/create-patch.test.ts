/**
 * The lifecycle spec of a planned patch (shared by POST /patches and the agent): unmonitored targets refused unless
 * allowed, the approvals raised for the patch's risk and to a policy's minimum (never lowered), quiet windows carried.
 */
import { PatchRefused, type PatchPlan, patchSpecFor } from '../../src/patching/create-patch';
import type { ResolvedFinding, RolloutSpec, Target } from '../../src/domain/types';

const ROLLOUT: RolloutSpec = { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 };
const TARGET: Target = { id: 't1', name: 'org/a', repoUrl: '/a.git', branch: 'main', healthChecks: [{ type: 'http', url: 'http://127.0.0.1:9/ok', expectStatus: 200, timeoutMs: 1000 }], verifyCommand: null, sandbox: { network: false, env: {} }, createdBy: 'test', createdAt: '2026-01-01T00:00:00.000Z' };

function resolved(safety: 'safe' | 'unsafe'): ResolvedFinding {
  return { ruleId: 'r', fingerprint: 'f', category: 'security', severity: 'high', file: 'ci.yml', line: 1, column: 1, message: 'm', fix: 'x', safety, docs: 'docs/rules.md#r' };
}

function plan(safeties: Array<'safe' | 'unsafe'>, targets: Target[] = [TARGET]): PatchPlan {
  return {
    title: 'Fix',
    type: 'security',
    description: null,
    diff: 'diff',
    targets,
    targetDiffs: [{ targetId: 't1', analysisId: 'a1', analysisCommit: 'c', diff: 'diff', selection: { unsafe: true }, findings: safeties.map(resolved) }],
    skippedTargets: [],
    changes: targets.map((target) => ({ target: target.name, files: [], fixes: safeties.map(resolved) })),
  };
}

const settings = { author: 'agent:p', rollout: ROLLOUT, approval: { quorum: 1, timeoutSeconds: 600 } };

describe('patchSpecFor', () => {
  test.each([
    ['all safe: the safe minimum', ['safe'], { minimumSafe: 2, minimumRisky: 3 }, 1, 2],
    ['an unsafe fix: the risky minimum', ['safe', 'unsafe'], { minimumSafe: 2, minimumRisky: 3 }, 1, 3],
    ['no minimums, an unsafe fix: 2', ['unsafe'], undefined, 1, 2],
    ['no minimums, all safe: what was asked', ['safe'], undefined, 1, 1],
    ['a minimum never lowers what was asked', ['safe'], { minimumSafe: 1 }, 4, 4],
  ] as const)('%s', (_name, safeties, minimums, asked, quorum) => {
    const spec = patchSpecFor(plan([...safeties]), { ...settings, approval: { quorum: asked, timeoutSeconds: 600 }, ...(minimums ? { approvalMinimums: minimums } : {}) });
    expect(spec.approval).toMatchObject({ quorum, timeoutSeconds: 600, requestedQuorum: asked });
  });

  test('quiet windows travel with the spec; none means no field', () => {
    const windows = [{ days: ['sat' as const], start: '00:00', end: '24:00' }];
    expect(patchSpecFor(plan(['safe']), { ...settings, quietWindows: windows }).quietWindows).toEqual(windows);
    expect(patchSpecFor(plan(['safe']), { ...settings, quietWindows: [] })).not.toHaveProperty('quietWindows');
  });

  test('unmonitored targets are refused unless allowed', () => {
    const bare = { ...TARGET, healthChecks: [] };
    expect(() => patchSpecFor(plan(['safe'], [bare]), settings)).toThrow(PatchRefused);
    expect(patchSpecFor(plan(['safe'], [bare]), { ...settings, rollout: { ...ROLLOUT, allowUnmonitored: true } }).targets).toEqual([bare]);
  });
});
