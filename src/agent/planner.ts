/**
 * The agent's cycle planning, pure: from the findings of a fleet scan to the patches to propose under a policy.
 * Eligible are fixable findings of the policy's rules at or above its severity (unsafe fixes only when allowed);
 * left out are findings an open patch already covers (by target and fingerprint, so a moved branch changes
 * nothing) and fixes a Guardian rejected before (proposed again only when the fix the fixer would apply now differs
 * from the rejected one). The rest is grouped per rule (a campaign across the targets) or per target, most severe
 * first, and capped by the open-patch limit. Each proposal carries the key that makes its creation idempotent.
 */
import { createHash } from 'node:crypto';
import { type Finding, SEVERITIES, type Severity } from '../domain/types';
import type { Grouping } from './policy';

export interface PlannerPolicy {
  id: string;
  rules: readonly string[];
  unsafe: boolean;
  minSeverity: Severity;
  grouping: Grouping;
  maxOpenPatches: number;
}

/** A target of the cycle whose analysis succeeded. */
export interface ScannedTarget {
  targetId: string;
  targetName: string;
  analysisId: string;
  findings: readonly Finding[];
}

/** A finding on a target, by fingerprint. */
export interface TargetFinding {
  targetId: string;
  fingerprint: string;
}

/** A fix a Guardian rejected: the finding it fixed and the fix's title. */
export interface RememberedFix extends TargetFinding {
  ruleId: string;
  fix: string;
}

export interface PlannerInput {
  policy: PlannerPolicy;
  scanned: readonly ScannedTarget[];
  /** Findings an open (non-terminal) patch covers. */
  covered: readonly TargetFinding[];
  /** Fixes Guardians rejected on the scanned targets. */
  rejected: readonly RememberedFix[];
  /** The fixes the fixer would apply now to findings that have a rejected fix (absent: it would fix nothing). */
  currentFixes: readonly RememberedFix[];
  /** The policy's agent patches still open. */
  openAgentPatches: number;
}

export interface ProposedTarget {
  targetId: string;
  targetName: string;
  analysisId: string;
  fingerprints: string[];
}

export interface Proposal {
  /** Policy + rule + target set + fingerprints: the same proposal always has the same key. */
  idempotencyKey: string;
  /** The campaign's rule (`per-rule`); null for a per-target patch. */
  ruleId: string | null;
  /** Rules whose findings the patch fixes. */
  ruleIds: string[];
  targets: ProposedTarget[];
  /** Per scanned target: its open findings of the proposal's rules at proposal time (the campaign's "before"). */
  findingsBefore: Record<string, number>;
}

/** What happened to the eligible findings; every one lands in exactly one of proposed, covered, rejected, over limit. */
export interface PlannerCounts {
  findingsEligible: number;
  findingsProposed: number;
  findingsCovered: number;
  findingsRejectedBefore: number;
  findingsOverLimit: number;
}

export interface CyclePlan {
  proposals: Proposal[];
  counts: PlannerCounts;
}

interface Candidate {
  target: ScannedTarget;
  finding: Finding;
}

const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);
const findingKey = (targetId: string, fingerprint: string, ruleId = ''): string => JSON.stringify([targetId, fingerprint, ruleId]);

function isEligible(finding: Finding, policy: PlannerPolicy): boolean {
  return (
    finding.fixable &&
    policy.rules.includes(finding.ruleId) &&
    severityRank(finding.severity) <= severityRank(policy.minSeverity) &&
    (finding.fixSafety === 'safe' || (finding.fixSafety === 'unsafe' && policy.unsafe))
  );
}

function idempotencyKey(policyId: string, grouping: Grouping, ruleId: string | null, targets: readonly ProposedTarget[]): string {
  const identity = { policyId, grouping, ruleId, targets: targets.map((target) => [target.targetId, target.fingerprints]) };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

function proposalOf(policy: PlannerPolicy, ruleId: string | null, candidates: readonly Candidate[], scanned: readonly ScannedTarget[]): Proposal {
  const byTarget = new Map<string, ProposedTarget>();
  for (const { target, finding } of candidates) {
    const entry = byTarget.get(target.targetId) ?? { targetId: target.targetId, targetName: target.targetName, analysisId: target.analysisId, fingerprints: [] };
    if (!entry.fingerprints.includes(finding.fingerprint)) entry.fingerprints.push(finding.fingerprint);
    byTarget.set(target.targetId, entry);
  }
  const targets = [...byTarget.values()]
    .map((target) => ({ ...target, fingerprints: [...target.fingerprints].sort() }))
    .sort((a, b) => a.targetId.localeCompare(b.targetId));
  const ruleIds = [...new Set(candidates.map((candidate) => candidate.finding.ruleId))].sort();
  const counted = ruleId === null ? policy.rules : [ruleId];
  const findingsBefore = Object.fromEntries(scanned.map((target) => [target.targetId, target.findings.filter((finding) => counted.includes(finding.ruleId)).length]));
  return { idempotencyKey: idempotencyKey(policy.id, policy.grouping, ruleId, targets), ruleId, ruleIds, targets, findingsBefore };
}

function mostSevere(candidates: readonly Candidate[]): number {
  return Math.min(...candidates.map((candidate) => severityRank(candidate.finding.severity)));
}

export function planCycle(input: PlannerInput): CyclePlan {
  const { policy } = input;
  const covered = new Set(input.covered.map((entry) => findingKey(entry.targetId, entry.fingerprint)));
  const rejectedFixes = new Map<string, Set<string>>();
  for (const entry of input.rejected) {
    const key = findingKey(entry.targetId, entry.fingerprint, entry.ruleId);
    rejectedFixes.set(key, (rejectedFixes.get(key) ?? new Set()).add(entry.fix));
  }
  const currentFix = new Map(input.currentFixes.map((entry) => [findingKey(entry.targetId, entry.fingerprint, entry.ruleId), entry.fix]));

  const counts: PlannerCounts = { findingsEligible: 0, findingsProposed: 0, findingsCovered: 0, findingsRejectedBefore: 0, findingsOverLimit: 0 };
  const open: Candidate[] = [];
  const seen = new Set<string>();
  for (const target of input.scanned) {
    for (const finding of target.findings) {
      const key = findingKey(target.targetId, finding.fingerprint, finding.ruleId);
      if (!isEligible(finding, policy) || seen.has(key)) continue;
      seen.add(key);
      counts.findingsEligible += 1;
      const rejected = rejectedFixes.get(key);
      const fixNow = currentFix.get(key);
      if (covered.has(findingKey(target.targetId, finding.fingerprint))) counts.findingsCovered += 1;
      else if (rejected && (fixNow === undefined || rejected.has(fixNow))) counts.findingsRejectedBefore += 1;
      else open.push({ target, finding });
    }
  }

  const groups = new Map<string, Candidate[]>();
  for (const candidate of open) {
    const group = policy.grouping === 'per-rule' ? candidate.finding.ruleId : candidate.target.targetId;
    groups.set(group, [...(groups.get(group) ?? []), candidate]);
  }
  const ordered = [...groups.entries()].sort(([groupA, a], [groupB, b]) => mostSevere(a) - mostSevere(b) || groupA.localeCompare(groupB));
  const capacity = Math.max(0, policy.maxOpenPatches - input.openAgentPatches);
  const proposals: Proposal[] = [];
  for (const [group, candidates] of ordered) {
    if (proposals.length >= capacity) {
      counts.findingsOverLimit += candidates.length;
      continue;
    }
    counts.findingsProposed += candidates.length;
    proposals.push(proposalOf(policy, policy.grouping === 'per-rule' ? group : null, candidates, input.scanned));
  }
  return { proposals, counts };
}
