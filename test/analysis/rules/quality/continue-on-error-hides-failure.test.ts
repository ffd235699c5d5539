import { continueOnErrorHidesFailureRule } from '../../../../src/analysis/rules/quality/continue-on-error-hides-failure';
import { containing, lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

describe('continue-on-error-hides-failure', () => {
  it('reports a step whose failure nothing inspects, at the flag', () => {
    const findings = runRule(
      continueOnErrorHidesFailureRule,
      lines(
        'on: push',
        'jobs:',
        '  test:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - name: Integration tests',
        '        run: make integration',
        '        continue-on-error: true',
        '      - run: make report-card',
      ),
    );
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'medium',
        line: 8,
        column: 28,
        endLine: 8,
        endColumn: 32,
        message: 'Step `Integration tests` in job `test` has `continue-on-error: true` and nothing reads its outcome: when it fails, the run stays green.',
      }),
    ]);
  });

  it('reports an id-carrying step when only earlier steps or other jobs mention it', () => {
    const findings = runRule(
      continueOnErrorHidesFailureRule,
      lines(
        'on: push',
        'jobs:',
        '  test:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - id: lint',
        '        run: npm run lint',
        "        continue-on-error: 'true'",
        '  other:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - run: echo "${{ steps.lint.outcome }}"',
      ),
    );
    expect(findings).toEqual([expect.objectContaining({ line: 8, message: containing('`npm run lint`') })]);
  });

  it('stays silent when a later step or a job output reads the outcome, for expressions and best-effort steps', () => {
    const findings = runRule(
      continueOnErrorHidesFailureRule,
      lines(
        'on: push',
        'jobs:',
        '  test:',
        '    runs-on: ubuntu-24.04',
        '    continue-on-error: true',
        '    outputs:',
        '      audit: ${{ steps.audit.conclusion }}',
        '    steps:',
        '      - id: tests',
        '        run: make test',
        '        continue-on-error: true',
        "      - if: steps.tests.outcome == 'failure'",
        '        run: echo "::warning::tests failed"',
        '      - id: audit',
        '        run: npm audit',
        '        continue-on-error: true',
        '      - run: make flaky',
        '        continue-on-error: ${{ matrix.experimental }}',
        '      - name: Save ccache',
        '        uses: actions/cache/save@v4',
        '        continue-on-error: true',
      ),
    );
    expect(findings).toEqual([]);
  });

  it('checks composite action steps against later steps and action outputs', () => {
    const action = lines(
      'name: a',
      'description: b',
      'outputs:',
      '  ok: { value: "${{ steps.probe.outcome }}", description: c }',
      'runs:',
      '  using: composite',
      '  steps:',
      '    - id: probe',
      '      run: ./probe.sh',
      '      shell: bash',
      '      continue-on-error: true',
      '    - run: ./verify.sh',
      '      shell: bash',
      '      continue-on-error: true',
    );
    expect(runRule(continueOnErrorHidesFailureRule, action, { path: '.github/actions/a/action.yml' })).toEqual([
      expect.objectContaining({ line: 14, message: containing('in this action') }),
    ]);
  });
});
