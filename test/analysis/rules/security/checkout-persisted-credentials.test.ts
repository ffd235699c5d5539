import { checkoutPersistedCredentialsRule } from '../../../../src/analysis/rules/security/checkout-persisted-credentials';
import type { Finding } from '../../../../src/domain/types';
import { repositoryFromFiles } from '../../../../src/analysis/discover';
import { analyzeRepository } from '../../../../src/analysis/engine';
import { runRule } from '../../../support/analysis';

function steps(lines: string[]): string {
  return ['on: push', 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    steps:', ...lines, ''].join('\n');
}

describe('checkout-persisted-credentials', () => {
  it('reports a default checkout at its uses value', () => {
    const findings = runRule(checkoutPersistedCredentialsRule, steps(['      - uses: actions/checkout@v4', '      - run: make']));
    expect(findings).toEqual([expect.objectContaining({ severity: 'medium', line: 6, column: 15, endLine: 6, endColumn: 34 })]);
    expect(findings[0]?.message).toContain('.git/config');
  });

  it('offers no fix in a job whose token may write the repository, and says why', () => {
    const writer = (grant: string): string =>
      ['on: push', grant, 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    steps:', '      - uses: actions/checkout@v4', '      - run: node scripts/release.mjs', ''].join('\n');
    const findingOf = (grant: string): Finding | undefined =>
      analyzeRepository(repositoryFromFiles(new Map([['.github/workflows/ci.yml', writer(grant)]])), { rules: [checkoutPersistedCredentialsRule] }).findings[0];
    for (const grant of ['permissions:\n  contents: write', 'permissions: write-all']) {
      const finding = findingOf(grant);
      expect(finding).toEqual(expect.objectContaining({ fixable: false }));
      expect(finding?.fixNote).toMatch(/job `build` may write to the repository .* may push with the persisted credential/);
    }
    const readOnly = findingOf('permissions:\n  contents: read');
    expect(readOnly).toEqual(expect.objectContaining({ fixable: true, fixSafety: 'safe' }));
  });

  it('points at an explicit `persist-credentials: true` and lowers severity from v6 on, also for commented SHA pins', () => {
    const findings = runRule(
      checkoutPersistedCredentialsRule,
      steps([
        '      - uses: actions/checkout@v4',
        '        with:',
        '          persist-credentials: true',
        '      - uses: actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2',
      ]),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'medium', line: 8, column: 32, endColumn: 36 }),
      expect.objectContaining({ severity: 'low', line: 9 }),
    ]);
  });

  it('stays silent when credentials are not persisted, decided at run time, or needed by a later push', () => {
    const silent = [
      steps(['      - uses: actions/checkout@v4', '        with:', '          persist-credentials: false']),
      steps(['      - uses: actions/checkout@v4', '        with:', "          persist-credentials: 'FALSE'"]),
      steps(['      - uses: actions/checkout@v4', '        with:', '          persist-credentials: ${{ inputs.push }}']),
      steps(['      - uses: actions/checkout@v4', '      - run: |', '          git commit -am bump', '          git -C docs push origin HEAD']),
      steps(['      - uses: actions/checkout@v4', '      - uses: stefanzweifel/git-auto-commit-action@v5']),
      steps(['      - uses: actions/checkout@v4', '      - uses: changesets/action@v1']),
    ];
    for (const text of silent) expect(runRule(checkoutPersistedCredentialsRule, text)).toEqual([]);
  });

  it('still reports when the only push brings its own credential or happens before the checkout', () => {
    const ownCredential = steps([
      '      - uses: actions/checkout@v4',
      '      - run: git push "https://x-access-token:${GH_TOKEN}@github.com/${GITHUB_REPOSITORY}.git" HEAD',
    ]);
    expect(runRule(checkoutPersistedCredentialsRule, ownCredential)).toHaveLength(1);
    const pushBefore = steps(['      - run: git push origin HEAD', '      - uses: actions/checkout@v4']);
    expect(runRule(checkoutPersistedCredentialsRule, pushBefore)).toHaveLength(1);
  });

  it('covers composite actions', () => {
    const findings = runRule(
      checkoutPersistedCredentialsRule,
      ['name: setup', 'runs:', '  using: composite', '  steps:', '    - uses: actions/checkout@v5', ''].join('\n'),
      { path: '.github/actions/setup/action.yml' },
    );
    expect(findings).toEqual([expect.objectContaining({ line: 5, column: 13 })]);
    expect(findings[0]?.message).toContain('in this action');
  });
});
