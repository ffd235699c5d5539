import { unpinnedActionRule } from '../../../../src/analysis/rules/security/unpinned-action';
import { runRule } from '../../../support/analysis';

const sha = 'dbcb813823bdd20940b903addbd779551569679f';

describe('unpinned-action', () => {
  it('reports a third-party tag pin with high severity at the uses value', () => {
    const findings = runRule(
      unpinnedActionRule,
      ['on: push', 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    steps:', '      - uses: docker/login-action@v4', ''].join('\n'),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'high', line: 6, column: 15, endLine: 6, endColumn: 37 }),
    ]);
    expect(findings[0]?.message).toContain('mutable ref `v4`');
  });

  it('reports first-party owners with low severity, and follows the configured owner list', () => {
    const text = ['on: push', 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    steps:', '      - uses: actions/checkout@v4', ''].join('\n');
    expect(runRule(unpinnedActionRule, text).map((f) => f.severity)).toEqual(['low']);
    expect(runRule(unpinnedActionRule, text, { firstPartyOwners: [] }).map((f) => f.severity)).toEqual(['high']);
    expect(runRule(unpinnedActionRule, text.replace('actions/checkout', 'Acme/tool'), { firstPartyOwners: ['acme'] }).map((f) => f.severity)).toEqual(['low']);
  });

  it('reports reusable workflows called by a job, refs missing entirely and abbreviated SHAs', () => {
    const findings = runRule(
      unpinnedActionRule,
      [
        'on: push',
        'jobs:',
        '  call:',
        '    uses: octo-org/shared/.github/workflows/ci.yml@main',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: octo-org/tool',
        '      - uses: octo-org/tool@dbcb813',
        '',
      ].join('\n'),
    );
    expect(findings.map((f) => [f.line, f.column, f.endColumn])).toEqual([
      [4, 11, 56],
      [8, 15, 28],
      [9, 15, 36],
    ]);
    expect(findings[0]?.message).toMatch(/^reusable workflow/);
    expect(findings[1]?.message).toContain('has no `@ref`');
    expect(findings[2]?.message).toContain('abbreviated commit SHA');
  });

  it('covers the steps of composite actions', () => {
    const findings = runRule(
      unpinnedActionRule,
      ['name: setup', 'runs:', '  using: composite', '  steps:', '    - uses: pnpm/action-setup@v4', ''].join('\n'),
      { path: '.github/actions/setup/action.yml' },
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'high', line: 5, column: 13, endColumn: 33 })]);
  });

  it('stays silent on full SHA pins, local actions and docker images', () => {
    const findings = runRule(
      unpinnedActionRule,
      [
        'on: push',
        'jobs:',
        '  call:',
        '    uses: ./.github/workflows/reusable.yml',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        `      - uses: docker/login-action@${sha} # v4.6.0`,
        `      - uses: DOCKER/login-action@${sha.toUpperCase()}`,
        '      - uses: ./.github/actions/setup',
        '      - uses: docker://alpine:3.20',
        '      - run: echo "uses: evil/action@main"',
        '',
      ].join('\n'),
    );
    expect(findings).toEqual([]);
  });
});
