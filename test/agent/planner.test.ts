/**
 * The agent's pure planner, table-driven: eligibility (rules, severity, safety), de-duplication against open
 * patches and remembered rejections (again only when the fix changed), grouping per rule and per target, the
 * open-patch cap and stable idempotency keys; odd inputs (duplicates, empty scans, hostile text) included.
 */
import type { Finding } from '../../src/domain/types';
import { planCycle, type PlannerInput, type PlannerPolicy, type ScannedTarget } from '../../src/agent/planner';

const POLICY: PlannerPolicy = { id: 'p1', rules: ['missing-job-timeout', 'checkout-persisted-credentials'], unsafe: true, minSeverity: 'low', grouping: 'per-rule', maxOpenPatches: 5 };

function finding(ruleId: string, fingerprint: string, overrides: Partial<Finding> = {}): Finding {
  return {
    ruleId,
    fingerprint,
    category: 'security',
    severity: 'medium',
    confidence: 'high',
    file: '.github/workflows/ci.yml',
    message: 'm',
    remediation: 'r',
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 2,
    fixable: true,
    fixSafety: ruleId === 'missing-job-timeout' ? 'unsafe' : 'safe',
    ...overrides,
  };
}

function target(id: string, findings: Finding[]): ScannedTarget {
  return { targetId: id, targetName: `org/${id}`, analysisId: `analysis-${id}`, findings };
}

const T = 'missing-job-timeout';
const C = 'checkout-persisted-credentials';
const fleet = [target('a', [finding(T, 'fa1'), finding(C, 'fa2')]), target('b', [finding(T, 'fb1'), finding(C, 'fb2')])];

function plan(overrides: Omit<Partial<PlannerInput>, 'policy'> & { policy?: Partial<PlannerPolicy> } = {}) {
  const { policy, ...rest } = overrides;
  return planCycle({ scanned: fleet, covered: [], rejected: [], currentFixes: [], openAgentPatches: 0, ...rest, policy: { ...POLICY, ...policy } });
}

const shape = (result: ReturnType<typeof plan>) => result.proposals.map((proposal) => ({ rule: proposal.ruleId, targets: proposal.targets.map((entry) => `${entry.targetId}:${entry.fingerprints.join('+')}`) }));

describe('planCycle', () => {
  test.each([
    ['per-rule: one campaign per rule across the targets', {}, [{ rule: C, targets: ['a:fa2', 'b:fb2'] }, { rule: T, targets: ['a:fa1', 'b:fb1'] }]],
    ['per-target: one patch per target bundling its fixes', { policy: { grouping: 'per-target' as const } }, [{ rule: null, targets: ['a:fa1+fa2'] }, { rule: null, targets: ['b:fb1+fb2'] }]],
    ['unsafe fixes only when allowed', { policy: { unsafe: false } }, [{ rule: C, targets: ['a:fa2', 'b:fb2'] }]],
    ['only the policy\'s rules', { policy: { rules: [T] } }, [{ rule: T, targets: ['a:fa1', 'b:fb1'] }]],
    ['findings below minSeverity are left', { policy: { minSeverity: 'high' as const } }, []],
    ['a finding an open patch covers is left, on that target only', { covered: [{ targetId: 'a', fingerprint: 'fa1' }] }, [{ rule: C, targets: ['a:fa2', 'b:fb2'] }, { rule: T, targets: ['b:fb1'] }]],
    ['a covered fingerprint of another target covers nothing here', { covered: [{ targetId: 'z', fingerprint: 'fa1' }] }, [{ rule: C, targets: ['a:fa2', 'b:fb2'] }, { rule: T, targets: ['a:fa1', 'b:fb1'] }]],
    ['a rejected fix is not proposed while the fix is the same', { rejected: [{ targetId: 'a', fingerprint: 'fa2', ruleId: C, fix: 'Set persist-credentials: false' }], currentFixes: [{ targetId: 'a', fingerprint: 'fa2', ruleId: C, fix: 'Set persist-credentials: false' }] }, [{ rule: C, targets: ['b:fb2'] }, { rule: T, targets: ['a:fa1', 'b:fb1'] }]],
    ['a rejected finding is proposed again when the fix changed', { rejected: [{ targetId: 'a', fingerprint: 'fa2', ruleId: C, fix: 'old fix' }], currentFixes: [{ targetId: 'a', fingerprint: 'fa2', ruleId: C, fix: 'new fix' }] }, [{ rule: C, targets: ['a:fa2', 'b:fb2'] }, { rule: T, targets: ['a:fa1', 'b:fb1'] }]],
    ['a rejected finding the fixer no longer fixes is left', { rejected: [{ targetId: 'a', fingerprint: 'fa2', ruleId: C, fix: 'old fix' }] }, [{ rule: C, targets: ['b:fb2'] }, { rule: T, targets: ['a:fa1', 'b:fb1'] }]],
    ['a rejection of another rule with the same fingerprint does not count', { rejected: [{ targetId: 'a', fingerprint: 'fa2', ruleId: T, fix: 'x' }] }, [{ rule: C, targets: ['a:fa2', 'b:fb2'] }, { rule: T, targets: ['a:fa1', 'b:fb1'] }]],
    ['the cap counts the policy\'s open patches', { openAgentPatches: 4 }, [{ rule: C, targets: ['a:fa2', 'b:fb2'] }]],
    ['no room: nothing', { openAgentPatches: 9 }, []],
    ['an empty scan proposes nothing', { scanned: [] }, []],
  ] as const)('%s', (_name, input, expected) => {
    expect(shape(plan(input as Omit<Partial<PlannerInput>, 'policy'> & { policy?: Partial<PlannerPolicy> }))).toEqual(expected);
  });

  test('every eligible finding is counted once: proposed, covered, rejected or over the limit', () => {
    const result = plan({ covered: [{ targetId: 'a', fingerprint: 'fa1' }], rejected: [{ targetId: 'b', fingerprint: 'fb2', ruleId: C, fix: 'f' }], policy: { maxOpenPatches: 1 } });
    expect(result.counts).toEqual({ findingsEligible: 4, findingsProposed: 1, findingsCovered: 1, findingsRejectedBefore: 1, findingsOverLimit: 1 });
    const { findingsEligible, ...parts } = result.counts;
    expect(Object.values(parts).reduce((total, count) => total + count, 0)).toBe(findingsEligible);
  });

  test('unfixable findings and findings without a fix safety are never eligible', () => {
    const odd = [target('a', [finding(T, 'x1', { fixable: false, fixSafety: undefined }), finding(C, 'x2', { fixSafety: undefined })])];
    expect(plan({ scanned: odd })).toEqual({ proposals: [], counts: { findingsEligible: 0, findingsProposed: 0, findingsCovered: 0, findingsRejectedBefore: 0, findingsOverLimit: 0 } });
  });

  test('a finding reported twice is planned once', () => {
    const twice = [target('a', [finding(T, 'fa1'), finding(T, 'fa1')])];
    const result = plan({ scanned: twice });
    expect(shape(result)).toEqual([{ rule: T, targets: ['a:fa1'] }]);
    expect(result.counts.findingsEligible).toBe(1);
  });

  test('the most severe group comes first, so the cap keeps it', () => {
    const scanned = [target('a', [finding(T, 'fa1', { severity: 'low' }), finding(C, 'fa2', { severity: 'critical' })])];
    expect(shape(plan({ scanned, policy: { maxOpenPatches: 1, rules: [T, C] } }))).toEqual([{ rule: C, targets: ['a:fa2'] }]);
  });

  test('keys are stable across input order and differ with the policy, rule, targets or fingerprints', () => {
    const key = (input: Omit<Partial<PlannerInput>, 'policy'> & { policy?: Partial<PlannerPolicy> }) => plan(input).proposals.map((proposal) => proposal.idempotencyKey);
    const base = key({});
    expect(key({ scanned: [...fleet].reverse() })).toEqual([...base]);
    expect(key({ policy: { id: 'p2' } })).not.toEqual(base);
    expect(key({ scanned: [fleet[0] as ScannedTarget] })).not.toContain(base[0]);
    expect(key({ scanned: [target('a', [finding(T, 'fa1'), finding(C, 'fa9')]), fleet[1] as ScannedTarget] })[0]).not.toBe(base[0]);
    expect(new Set(base).size).toBe(base.length);
  });

  test('hostile text in ids and fingerprints is carried as data, never splitting keys', () => {
    const hostile = [target('a"],["b', [finding(T, '"]\u0000\n')]), target('a', [finding(T, '"],["b"]\u0000\n')])];
    const result = plan({ scanned: hostile, covered: [{ targetId: 'a', fingerprint: '"],["b"]\u0000\n' }] });
    expect(shape(result)).toEqual([{ rule: T, targets: ['a"],["b:"]\u0000\n'] }]);
    expect(result.counts.findingsCovered).toBe(1);
  });

  test('findingsBefore counts the campaign rule\'s findings on every scanned target, eligible or not', () => {
    const scanned = [target('a', [finding(T, 'fa1'), finding(T, 'fa3', { fixable: false, fixSafety: undefined })]), target('b', [finding(C, 'fb2')])];
    const timeout = plan({ scanned }).proposals.find((proposal) => proposal.ruleId === T);
    expect(timeout?.findingsBefore).toEqual({ a: 2, b: 0 });
  });
});
