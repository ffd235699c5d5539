/**
 * Campaigns: a `per-rule` agent patch across the targets a policy selected. Pure: from the patch's status, its
 * deployments and the findings counted before and after, the state of every selected target and the counts.
 */
import type { DeploymentStatus, PatchStatus } from '../domain/types';

export const CAMPAIGN_TARGET_STATES = ['fixed', 'pending_approval', 'deploying', 'rolled_back', 'rejected', 'failed', 'not_applicable', 'excluded'] as const;
/**
 * `failed`: the patch ended without deploying (tests failed, approval expired, cancelled); `excluded`: the target
 * had findings of the rule but none the campaign could take (covered by another patch, rejected before, unfixable).
 */
export type CampaignTargetState = (typeof CAMPAIGN_TARGET_STATES)[number];

export interface CampaignFacts {
  patchId: string;
  title: string;
  ruleId: string;
  policyId: string;
  policyName: string;
  patchStatus: PatchStatus;
  createdAt: string;
  patchTargetIds: string[];
  selected: Array<{
    targetId: string;
    name: string;
    findingsBefore: number | null;
    deployment: { status: DeploymentStatus; deployedCommit: string | null; deployedAt: string | null } | null;
    /** The rule's findings in the target's latest analysis after the deployment; null before there is one. */
    findingsAfter: number | null;
  }>;
}

export interface CampaignTarget {
  targetId: string;
  target: string;
  state: CampaignTargetState;
  findingsBefore: number | null;
  findingsAfter: number | null;
  deployedCommit: string | null;
  deployedAt: string | null;
}

export interface Campaign {
  id: string;
  patchId: string;
  title: string;
  ruleId: string;
  policyId: string;
  policyName: string;
  status: PatchStatus;
  createdAt: string;
  counts: Record<CampaignTargetState, number>;
  /** The rule's findings over the selected targets before the campaign and after its deployments (where analysed). */
  trend: { before: number; after: number | null };
  targets: CampaignTarget[];
}

function stateOf(patchStatus: PatchStatus, inPatch: boolean, findingsBefore: number | null, deployment: DeploymentStatus | undefined): CampaignTargetState {
  if (!inPatch) return findingsBefore === 0 ? 'not_applicable' : 'excluded';
  // The target's team closed the pull request (or took its branch over).
  if (deployment === 'declined') return 'rejected';
  switch (patchStatus) {
    case 'rejected':
      return 'rejected';
    case 'pending':
    case 'testing':
    case 'awaiting_approval':
      return 'pending_approval';
    case 'rolling_back':
    case 'rolled_back':
      return deployment === undefined || deployment === 'skipped' ? 'failed' : 'rolled_back';
    case 'deployed':
      return deployment === 'deployed' ? 'fixed' : 'failed';
    case 'deploying':
    case 'paused':
      return deployment === 'reverted' ? 'rolled_back' : 'deploying';
    default:
      return deployment === 'reverted' ? 'rolled_back' : 'failed';
  }
}

export function campaignOf(facts: CampaignFacts): Campaign {
  const targets = facts.selected.map((entry) => ({
    targetId: entry.targetId,
    target: entry.name,
    state: stateOf(facts.patchStatus, facts.patchTargetIds.includes(entry.targetId), entry.findingsBefore, entry.deployment?.status),
    findingsBefore: entry.findingsBefore,
    findingsAfter: entry.findingsAfter,
    deployedCommit: entry.deployment?.deployedCommit ?? null,
    deployedAt: entry.deployment?.deployedAt ?? null,
  }));
  const counts = Object.fromEntries(CAMPAIGN_TARGET_STATES.map((state) => [state, targets.filter((target) => target.state === state).length])) as Record<CampaignTargetState, number>;
  const analysedAfter = targets.filter((target) => target.findingsAfter !== null);
  const before = targets.reduce((total, target) => total + (target.findingsBefore ?? 0), 0);
  // After: the new count where a target was analysed after its deployment, the old count elsewhere.
  const after = analysedAfter.length === 0 ? null : targets.reduce((total, target) => total + (target.findingsAfter ?? target.findingsBefore ?? 0), 0);
  return {
    id: facts.patchId,
    patchId: facts.patchId,
    title: facts.title,
    ruleId: facts.ruleId,
    policyId: facts.policyId,
    policyName: facts.policyName,
    status: facts.patchStatus,
    createdAt: facts.createdAt,
    counts,
    trend: { before, after },
    targets,
  };
}
