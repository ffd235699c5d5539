import { spoofableBotCheckRule } from '../../../../src/analysis/rules/security/spoofable-bot-check';
import { parseWorkflowFile } from '../../../../src/analysis/parse';
import { runRule } from '../../../support/analysis';

const lines = (...text: string[]): string => [...text, ''].join('\n');

const workflow = (trigger: string, condition: string): string =>
  lines(
    `on: ${trigger}`,
    'jobs:',
    '  automerge:',
    '    runs-on: ubuntu-latest',
    `    if: ${condition}`,
    '    steps:',
    '      - run: gh pr merge --auto "$PR_URL"',
  );

describe('spoofable-bot-check', () => {
  it('points at the actor comparison inside the condition', () => {
    const findings = runRule(
      spoofableBotCheckRule,
      workflow('pull_request_target', "${{ github.event.pull_request.draft == false && github.actor == 'dependabot[bot]' }}"),
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'high', line: 5, column: 57, endLine: 5, endColumn: 90 })]);
    expect(findings[0]?.message).toContain('`github.actor` is a bot');
  });

  it('covers triggering_actor, reversed operands, bot lists and steps; medium under pull_request', () => {
    const text = lines(
      'on: pull_request',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      "    if: \"'renovate[bot]' == github.triggering_actor\"",
      '    steps:',
      "      - if: contains(fromJSON('[\"dependabot[bot]\", \"renovate[bot]\"]'), github.actor)",
      '        run: ./approve.sh',
    );
    expect(runRule(spoofableBotCheckRule, text)).toEqual([
      expect.objectContaining({ severity: 'medium', line: 5 }),
      expect.objectContaining({ severity: 'medium', line: 7, column: 13 }),
    ]);
  });

  it('stays silent for exclusions, author checks and triggers without outside actors', () => {
    expect(runRule(spoofableBotCheckRule, workflow('pull_request_target', "github.actor != 'dependabot[bot]'"))).toEqual([]);
    expect(runRule(spoofableBotCheckRule, workflow('pull_request_target', "!(github.actor == 'dependabot[bot]')"))).toEqual([]);
    expect(runRule(spoofableBotCheckRule, workflow('pull_request_target', "github.event.pull_request.user.login == 'dependabot[bot]'"))).toEqual([]);
    expect(
      runRule(
        spoofableBotCheckRule,
        workflow('pull_request_target', "github.actor == 'dependabot[bot]' && github.event.pull_request.user.login == 'dependabot[bot]'"),
      ),
    ).toEqual([]);
    expect(runRule(spoofableBotCheckRule, workflow('push', "github.actor == 'dependabot[bot]'"))).toEqual([]);
    expect(runRule(spoofableBotCheckRule, workflow('pull_request_target', "github.actor == 'octocat'"))).toEqual([]);
  });

  it('suggests checking where the code comes from under workflow_run, where no pull request author exists', () => {
    const remediations: string[] = [];
    spoofableBotCheckRule.check({
      file: parseWorkflowFile('.github/workflows/ci.yml', workflow('workflow_run', "github.actor == 'dependabot[bot]'"), 'workflow'),
      repo: { workflowFiles: [], fileExists: () => false, firstPartyOwners: [] },
      report: (report) => remediations.push(report.remediation ?? ''),
    });
    expect(remediations).toEqual([expect.stringContaining('github.event.workflow_run.head_repository.full_name == github.repository')]);
  });
});
