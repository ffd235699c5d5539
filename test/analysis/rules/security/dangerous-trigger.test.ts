import { dangerousTriggerRule } from '../../../../src/analysis/rules/security/dangerous-trigger';
import { runRule } from '../../../support/analysis';

const lines = (...text: string[]): string => [...text, ''].join('\n');

describe('dangerous-trigger', () => {
  it('points at each dangerous trigger key, medium when the file checks out code or reads secrets', () => {
    const findings = runRule(
      dangerousTriggerRule,
      lines(
        'on:',
        '  pull_request_target:',
        '    types: [opened]',
        '  workflow_run:',
        '    workflows: [ci]',
        'jobs:',
        '  comment:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: actions/checkout@v4',
        '      - run: ./comment.sh',
        '        env:',
        '          TOKEN: ${{ secrets.BOT_TOKEN }}',
        '          GH_TOKEN: ${{ secrets.GITHUB_TOKEN }}',
      ),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'medium', line: 2, column: 3, endLine: 2, endColumn: 22 }),
      expect.objectContaining({ severity: 'medium', line: 4, column: 3, endLine: 4, endColumn: 15 }),
    ]);
    expect(findings[0]?.message).toBe(
      "`pull_request_target` runs with the base repository's secrets and write token for events from forks, and this workflow checks out the repository and reads secrets (`BOT_TOKEN`).",
    );
  });

  it('is informational when the file checks out nothing and reads no secrets', () => {
    const findings = runRule(
      dangerousTriggerRule,
      lines(
        'on: [pull_request_target]',
        'jobs:',
        '  label:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: actions/labeler@v5',
        '        with:',
        '          repo-token: ${{ secrets.GITHUB_TOKEN }}',
        '      # secrets.SOMETHING is only mentioned in this comment',
      ),
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'info', line: 1, column: 6, endColumn: 25 })]);
  });

  it('stays silent for pull_request and other triggers', () => {
    const findings = runRule(
      dangerousTriggerRule,
      lines('on:', '  pull_request:', '  push:', 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    steps:', '      - run: make'),
    );
    expect(findings).toEqual([]);
  });
});
