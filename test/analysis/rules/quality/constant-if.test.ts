import { constantIfRule } from '../../../../src/analysis/rules/quality/constant-if';
import { containing, lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

describe('constant-if', () => {
  it('reports constant job and step conditions at the condition', () => {
    const findings = runRule(
      constantIfRule,
      lines(
        'on: push',
        'jobs:',
        '  docs:',
        '    if: false',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - if: ${{ true }}',
        '        run: make',
        "      - if: 'false'",
        '        run: make publish',
      ),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'low', line: 4, column: 9, endLine: 4, endColumn: 14, message: 'The condition of job `docs` is always false; it never runs.' }),
      expect.objectContaining({ line: 7, column: 13, endColumn: 24, message: 'The condition of step 1 of job `docs` is always true; `if:` has no effect.' }),
      expect.objectContaining({ line: 9, column: 13, endColumn: 20, message: containing('always false') }),
    ]);
  });

  it('leaves real conditions and block scalars (always-true-if territory) alone', () => {
    const findings = runRule(
      constantIfRule,
      lines(
        'on: push',
        'jobs:',
        '  a:',
        '    if: github.event_name == true',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - if: |',
        '          ${{ false }}',
        '        run: make',
        '      - if: ${{ false }} && github.ref',
        '        run: make',
        '      - if: success()',
        '        run: make',
      ),
    );
    expect(findings).toEqual([]);
  });
});
