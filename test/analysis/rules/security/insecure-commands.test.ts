import { insecureCommandsRule } from '../../../../src/analysis/rules/security/insecure-commands';
import { runRule } from '../../../support/analysis';

describe('insecure-commands', () => {
  it('reports the variable at workflow, job and step level at its entry', () => {
    const findings = runRule(
      insecureCommandsRule,
      [
        'on: push',
        'env:',
        '  ACTIONS_ALLOW_UNSECURE_COMMANDS: true',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    env:',
        "      ACTIONS_ALLOW_UNSECURE_COMMANDS: '1'",
        '    steps:',
        '      - run: echo "::add-path::$HOME/bin"',
        '        env:',
        '          ACTIONS_ALLOW_UNSECURE_COMMANDS: ${{ inputs.legacy }}',
        '',
      ].join('\n'),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'high', line: 3, column: 3, endLine: 3, endColumn: 40 }),
      expect.objectContaining({ line: 8, column: 7, endColumn: 43 }),
      expect.objectContaining({ line: 12, column: 11 }),
    ]);
    expect(findings[2]?.message).toContain('from an expression');
  });

  it('reports a script enabling it through GITHUB_ENV at the assignment', () => {
    const findings = runRule(
      insecureCommandsRule,
      [
        'name: setup',
        'runs:',
        '  using: composite',
        '  steps:',
        '    - shell: bash',
        '      run: |',
        '        echo "ACTIONS_ALLOW_UNSECURE_COMMANDS=true" >> "$GITHUB_ENV"',
        '',
      ].join('\n'),
      { path: '.github/actions/setup/action.yml' },
    );
    expect(findings).toEqual([expect.objectContaining({ line: 7, column: 15, endLine: 7, endColumn: 47 })]);
  });

  it('stays silent when the variable is false or only mentioned', () => {
    const text = [
      'on: push',
      'env:',
      '  ACTIONS_ALLOW_UNSECURE_COMMANDS: false',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo "ACTIONS_ALLOW_UNSECURE_COMMANDS is $ACTIONS_ALLOW_UNSECURE_COMMANDS"',
      '',
    ].join('\n');
    expect(runRule(insecureCommandsRule, text)).toEqual([]);
  });
});
