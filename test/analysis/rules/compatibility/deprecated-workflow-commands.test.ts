import { deprecatedWorkflowCommandsRule } from '../../../../src/analysis/rules/compatibility/deprecated-workflow-commands';
import { containing, lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

describe('deprecated-workflow-commands', () => {
  it('points at each command inside a multi-line script, with severity by command', () => {
    const findings = runRule(
      deprecatedWorkflowCommandsRule,
      lines(
        'on: push',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - id: meta',
        '        run: |',
        '          echo "::set-output name=version::1.2.3"',
        '          echo "::set-env name=FOO::bar"',
        '          echo "::add-path::/opt/bin"',
      ),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'medium', line: 8, column: 17, endLine: 8, endColumn: 29, message: containing('`::set-output`') }),
      expect.objectContaining({ severity: 'high', line: 9, column: 17, endLine: 9, endColumn: 26 }),
      expect.objectContaining({ severity: 'high', line: 10, column: 17, endLine: 10, endColumn: 27 }),
    ]);
  });

  it('checks composite action steps', () => {
    const findings = runRule(
      deprecatedWorkflowCommandsRule,
      lines('name: a', 'description: d', 'runs:', '  using: composite', '  steps:', '    - shell: bash', '      run: echo "::save-state name=pid::$$"'),
      { path: '.github/actions/a/action.yml' },
    );
    expect(findings).toEqual([expect.objectContaining({ line: 7, column: 18, endColumn: 30, severity: 'medium' })]);
  });

  it('stays silent on environment files and on other workflow commands', () => {
    const findings = runRule(
      deprecatedWorkflowCommandsRule,
      lines(
        'on: push',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - run: |',
        '          echo "version=1.2.3" >> "$GITHUB_OUTPUT"',
        '          echo "::warning file=a.txt::careful"',
        '          echo "::add-mask::$TOKEN"',
        '      - uses: actions/github-script@v8',
        '        with:',
        "          script: core.setOutput('x', 1)",
      ),
    );
    expect(findings).toEqual([]);
  });
});
