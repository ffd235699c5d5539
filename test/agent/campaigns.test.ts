/** Campaign states per selected target, their counts and the findings trend, from the patch's facts (pure). */
import { campaignOf, type CampaignFacts } from '../../src/agent/campaigns';
import type { DeploymentStatus, PatchStatus } from '../../src/domain/types';

function facts(patchStatus: PatchStatus, deployment: DeploymentStatus | null, extra: Partial<CampaignFacts> = {}): CampaignFacts {
  return {
    patchId: 'p',
    title: 'Fix',
    ruleId: 'missing-job-timeout',
    policyId: 'pol',
    policyName: 'hygiene',
    patchStatus,
    createdAt: '2026-01-01T00:00:00.000Z',
    patchTargetIds: ['a'],
    selected: [
      { targetId: 'a', name: 'org/a', findingsBefore: 2, deployment: deployment === null ? null : { status: deployment, deployedCommit: 'c', deployedAt: null }, findingsAfter: null },
      { targetId: 'b', name: 'org/b', findingsBefore: 0, deployment: null, findingsAfter: null },
      { targetId: 'c', name: 'org/c', findingsBefore: 1, deployment: null, findingsAfter: null },
    ],
    ...extra,
  };
}

describe('campaignOf', () => {
  test.each([
    ['testing', null, 'pending_approval'],
    ['awaiting_approval', null, 'pending_approval'],
    ['deploying', 'pending', 'deploying'],
    ['deploying', 'deployed', 'deploying'],
    ['paused', 'deployed', 'deploying'],
    ['deploying', 'reverted', 'rolled_back'],
    ['deployed', 'deployed', 'fixed'],
    ['rolled_back', 'reverted', 'rolled_back'],
    ['rolled_back', null, 'failed'],
    ['rejected', null, 'rejected'],
    ['test_failed', null, 'failed'],
    ['expired', null, 'failed'],
    ['cancelled', 'reverted', 'rolled_back'],
  ] as const)('a patch %s with the target %s: %s', (patchStatus, deployment, state) => {
    const campaign = campaignOf(facts(patchStatus, deployment));
    expect(campaign.targets.map((target) => target.state)).toEqual([state, 'not_applicable', 'excluded']);
    expect(campaign.counts[state]).toBe(1);
    expect(Object.values(campaign.counts).reduce((total, count) => total + count, 0)).toBe(3);
  });

  test('the trend counts analysed targets after, the others as before; null until one is analysed again', () => {
    expect(campaignOf(facts('deployed', 'deployed')).trend).toEqual({ before: 3, after: null });
    const analysed = facts('deployed', 'deployed');
    analysed.selected[0] = { ...(analysed.selected[0] as CampaignFacts['selected'][number]), findingsAfter: 0 };
    expect(campaignOf(analysed).trend).toEqual({ before: 3, after: 1 });
  });
});
