/**
 * Which recorded approvals count towards a patch's quorum. Pure and imported by workflow code, so deterministic.
 *
 * Without distinct groups every approving Guardian counts once. With them, the count is the largest number of
 * approving Guardians that can each be given a different one of their own groups (a maximum matching of
 * Guardians to groups): two Guardians whose only group is the same count once, a Guardian without groups never
 * counts, and a Guardian of several groups is counted with whichever leaves the most others countable, so the
 * order in which Guardians approve does not change the count.
 */
import type { ApprovalRecord } from '../domain/types';

export function countedApprovals(approvals: readonly ApprovalRecord[], distinctGroups: boolean): number {
  const approved = approvals.filter((approval) => approval.decision === 'approved');
  if (!distinctGroups) return approved.length;
  /** Which approver (index into `approved`) each group is counted for. */
  const countedFor = new Map<string, number>();
  // Kuhn's augmenting paths: an approver takes a free group, or one whose holder can move to another group.
  const assign = (approver: number, tried: Set<string>): boolean => {
    for (const group of approved[approver]?.groups ?? []) {
      if (tried.has(group)) continue;
      tried.add(group);
      const holder = countedFor.get(group);
      if (holder === undefined || assign(holder, tried)) {
        countedFor.set(group, approver);
        return true;
      }
    }
    return false;
  };
  // An approver once counted stays counted (an augmenting path only moves them to another group).
  return approved.filter((_approval, index) => assign(index, new Set())).length;
}
