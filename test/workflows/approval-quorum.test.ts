/** Which approvals count towards a quorum, with and without distinct groups (pure; the workflow imports it). */
import type { ApprovalRecord } from '../../src/domain/types';
import { countedApprovals } from '../../src/workflows/approval-quorum';

function approval(guardian: string, groups?: string[], decision: ApprovalRecord['decision'] = 'approved'): ApprovalRecord {
  return { guardian, decision, comment: null, at: '2025-01-01T00:00:00.000Z', ...(groups ? { groups } : {}) };
}

describe('counted approvals', () => {
  test.each<[string, ApprovalRecord[], number, number]>([
    ['nobody', [], 0, 0],
    ['two approvers of the same group', [approval('ann', ['sre']), approval('bob', ['sre'])], 2, 1],
    ['two approvers of different groups', [approval('ann', ['sre']), approval('bob', ['security'])], 2, 2],
    ['an approver without groups', [approval('ann', ['sre']), approval('bob')], 2, 1],
    ['a rejection does not count', [approval('ann', ['sre']), approval('bob', ['security'], 'rejected')], 1, 1],
    // Greedy counting in approval order would give ann `sre` and count bob for nothing: 1 instead of 2.
    ['an approver of several groups leaves the shared one to the other', [approval('ann', ['sre', 'security']), approval('bob', ['sre'])], 2, 2],
    ['three approvers over two groups', [approval('ann', ['sre', 'security']), approval('bob', ['sre']), approval('cem', ['security'])], 3, 2],
    ['a chain of reassignments', [approval('ann', ['a', 'b']), approval('bob', ['b', 'c']), approval('cem', ['a'])], 3, 3],
  ])('%s', (_name, approvals, anyGuardian, distinctGroups) => {
    expect(countedApprovals(approvals, false)).toBe(anyGuardian);
    expect(countedApprovals(approvals, true)).toBe(distinctGroups);
    expect(countedApprovals([...approvals].reverse(), true)).toBe(distinctGroups);
  });
});
