import { secretsInheritRule } from '../../../../src/analysis/rules/security/secrets-inherit';
import { runRule } from '../../../support/analysis';

describe('secrets-inherit', () => {
  it('reports `secrets: inherit` at its value', () => {
    const findings = runRule(
      secretsInheritRule,
      ['on: push', 'jobs:', '  release:', '    uses: octo-org/shared/.github/workflows/release.yml@v1', '    secrets: inherit', ''].join('\n'),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'medium', line: 5, column: 14, endLine: 5, endColumn: 21 }),
    ]);
    expect(findings[0]?.message).toContain('`octo-org/shared/.github/workflows/release.yml@v1`');
  });

  it('stays silent when secrets are passed by name', () => {
    expect(
      runRule(
        secretsInheritRule,
        ['on: push', 'jobs:', '  release:', '    uses: ./.github/workflows/release.yml', '    secrets:', '      inherit: ${{ secrets.INHERIT }}', ''].join('\n'),
      ),
    ).toEqual([]);
  });
});
