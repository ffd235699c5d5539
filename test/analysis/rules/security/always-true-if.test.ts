import { alwaysTrueIfRule } from '../../../../src/analysis/rules/security/always-true-if';
import { runRule } from '../../../support/analysis';

const lines = (...text: string[]): string => [...text, ''].join('\n');

describe('always-true-if', () => {
  it('reports text around and between expressions at job and step level', () => {
    const findings = runRule(
      alwaysTrueIfRule,
      lines(
        'on: push',
        'jobs:',
        '  deploy:',
        "    if: ${{ github.ref == 'refs/heads/main' }} && ${{ github.repository == 'acme/app' }}",
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - name: publish',
        "        if: success() && ${{ github.event_name == 'push' }}",
        '        run: ./publish.sh',
      ),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'high', line: 4, column: 9, endLine: 4, endColumn: 89 }),
      expect.objectContaining({ line: 8, column: 13, endLine: 8, endColumn: 60 }),
    ]);
    expect(findings[0]?.message).toContain('job `deploy`');
    expect(findings[1]?.message).toContain('text outside `${{ }}`');
  });

  it('reports a block scalar that keeps a line break after the expression, and string literals', () => {
    const findings = runRule(
      alwaysTrueIfRule,
      lines(
        'name: setup',
        'runs:',
        '  using: composite',
        '  steps:',
        '    - if: |',
        "        ${{ inputs.enabled == 'true' }}",
        '      shell: bash',
        '      run: ./setup.sh',
        '    - if: "\'false\'"',
        '      shell: bash',
        '      run: ./never.sh',
      ),
      { path: '.github/actions/setup/action.yml' },
    );
    expect(findings).toEqual([
      expect.objectContaining({ line: 5, column: 11, endLine: 7, endColumn: 1 }),
      expect.objectContaining({ line: 9, column: 11 }),
    ]);
    expect(findings[0]?.message).toContain('line break after `}}`');
    expect(findings[1]?.message).toContain("string literal 'false'");
  });

  it('stays silent on plain conditions, one whole expression and stripped block scalars', () => {
    const findings = runRule(
      alwaysTrueIfRule,
      lines(
        'on: push',
        'jobs:',
        '  a:',
        '    if: github.event_name == x.y',
        '    runs-on: ubuntu-latest',
        '    steps:',
        "      - if: ${{ github.ref == 'refs/heads/main' }}",
        '        run: echo',
        '      - if: >-',
        '          ${{',
        "            github.event_name == 'push' &&",
        "            github.ref == 'refs/heads/main'",
        '          }}',
        '        run: echo',
        '      - if: |',
        '          success() &&',
        "          github.ref == 'refs/heads/main'",
        '        run: echo',
        '      - if: true',
        '        run: echo',
        "      - if: \"${{ 'true' }}\"",
        '        run: echo',
      ),
    );
    expect(findings).toEqual([]);
  });
});
